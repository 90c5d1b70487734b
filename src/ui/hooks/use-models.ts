// Model state for the UI: catalogue, stored models, the loaded model, and running transfers
// (downloads with pause/resume, imports). Everything goes through the engine client.
import { useCallback, useEffect, useRef, useState } from 'react';
import type {
  DownloadRequest, EngineClient, EngineEvent, FolderImportProgress, FolderImportRequest, FolderImportType, LoadedModelInfo, LoadProgress, ModelRef, StoredModel, TransferProgress,
} from '../../worker/api.ts';
import { isMLCFolder } from '../../worker/api.ts';
import { loadCatalogue, type CatalogueEntry } from '../state/catalogue.ts';
import { errorCode, errorMessage, loadErrorText, transferErrorText } from '../state/format.ts';
import type { Settings } from '../state/settings.ts';
import { useTabMessages } from '../state/tab-channel.ts';
import { useEngine } from './engine.ts';

export interface Transfer {
  id: string;
  name: string;
  kind: 'download' | 'import' | 'convert';
  state: 'running' | 'paused' | 'failed';
  progress?: TransferProgress;
  /** a folder being converted: the tensor it is at */
  convert?: FolderImportProgress;
  error?: string;
  request?: DownloadRequest;
}

export interface Models {
  catalogue: CatalogueEntry[];
  stored: StoredModel[];
  loaded: LoadedModelInfo | null;
  loading: { name: string; progress?: LoadProgress } | null;
  loadError: string | null;
  /** the engine worker died and was restarted (or is being restarted): what became of it, for people */
  notice: string | null;
  transfers: Transfer[];
  /** Loads a model; backend and KV type default to the settings'. */
  load(ref: ModelRef, opts?: Pick<Settings, 'backend' | 'kvType'>): Promise<void>;
  remove(id: string): Promise<void>;
  importFiles(files: File[]): Promise<void>;
  /** Converts a Hugging Face folder to `type` on this device and stores it. */
  importFolder(folder: FolderImportRequest['folder'], type: FolderImportType): Promise<void>;
  cancelImport(id: string): void;
  /** The stored file as a Blob (read from the cache, not copied into script memory). */
  exportModel(id: string): Promise<{ name: string; blob: Blob }>;
  download(req: DownloadRequest): Promise<void>;
  /** A stored model whose chunks went missing: delete what is left and download it again (same hash). */
  redownload(m: StoredModel): Promise<void>;
  pause(id: string): void;
  dismiss(id: string): void;
}

const LAST_MODEL = 'edge-llm:model';

const lostWorker = (e: unknown): boolean => errorCode(e) === 'WORKER_LOST';

/** A download cut off by the worker's death: what was stored is a partial, resumable by Range. */
export const DOWNLOAD_CUT = 'The engine stopped during the download. What was stored is kept: Resume continues from there.';
export const IMPORT_CUT = 'The engine stopped during the import. Nothing was kept: import it again.';

export function bundledRef(e: CatalogueEntry): ModelRef {
  return { kind: 'bundled', url: new URL(e.url, document.baseURI).href, name: e.name, ...(e.sha256 ? { sha256: e.sha256 } : {}) };
}

/** The catalogue's current entry for a remembered bundled ref (an older visit stored no hash). */
function currentRef(ref: ModelRef, catalogue: CatalogueEntry[]): ModelRef {
  if (ref.kind !== 'bundled') return ref;
  const e = catalogue.find((c) => c.bundled && new URL(c.url, document.baseURI).href === ref.url);
  return e ? bundledRef(e) : ref;
}

let persistence: Promise<boolean> | undefined;

/**
 * Persistent storage keeps the browser from evicting models; only a window can ask for it (the
 * worker cannot), once per page, at the first download or import. The Device panel shows the answer.
 */
function askPersistence(): void {
  persistence ??= navigator.storage?.persist?.().catch(() => false) ?? Promise.resolve(false);
}

/** `active`: this device's engine is the chosen one (the start-up model loads only then). */
export function useModels(settings: Settings, active = true): Models {
  const engine = useEngine();
  const [catalogue, setCatalogue] = useState<CatalogueEntry[]>([]);
  const [stored, setStored] = useState<StoredModel[]>([]);
  const [loaded, setLoaded] = useState<LoadedModelInfo | null>(null);
  const [loading, setLoading] = useState<Models['loading']>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [transfers, setTransfers] = useState<Record<string, Transfer>>({});
  const [notice, setNotice] = useState<string | null>(null);
  /** the model being loaded again on a restarted worker */
  const [restarting, setRestarting] = useState<{ name: string } | null>(null);
  const loadOpts = useRef(settings);
  loadOpts.current = settings;
  const loadedRef = useRef(loaded);
  loadedRef.current = loaded;

  const refresh = useCallback(async () => setStored(await engine.listModels()), [engine]);
  const patch = useCallback((id: string, t: Partial<Transfer> | null) => setTransfers((all) => {
    const next = { ...all };
    if (t === null) delete next[id];
    else next[id] = { ...(all[id] as Transfer), ...t };
    return next;
  }), []);
  /** Progress may arrive after the transfer ended (another MessagePort): only running ones take it. */
  const progressOf = useCallback((id: string) => (progress: TransferProgress) => setTransfers((all) => (
    all[id]?.state === 'running' ? { ...all, [id]: { ...all[id], progress } } : all)), []);

  const load = useCallback(async (ref: ModelRef, { backend, kvType } = loadOpts.current) => {
    const name = ref.kind === 'bundled' ? ref.name : ref.id;
    const previous = loadedRef.current?.name;
    setLoading({ name });
    setLoadError(null);
    setNotice(null);
    // Progress arrives on its own MessagePort and may land after the result: drop it by then.
    let settled = false;
    try {
      const { contextLength, maxMemoryMiB: mib } = loadOpts.current;
      const info = await engine.loadModel(ref, {
        backend, kvType, ...(contextLength > 0 ? { nCtx: contextLength } : {}), ...(mib > 0 ? { maxMemoryBytes: mib * 2 ** 20 } : {}),
      },
        (progress) => { if (!settled) setLoading({ name, progress }); });
      setLoaded(info);
      localStorage.setItem(LAST_MODEL, JSON.stringify(ref));
    } catch (e) {
      // The worker keeps (or reloads) the previous model; ask it what is loaded now. A worker
      // that died has none: the restart's EngineEvents say what is loaded.
      if (!lostWorker(e)) setLoaded(await engine.loadedModel().catch(() => null));
      setLoadError(loadErrorText(name, e, previous));
      // a stored model may have lost chunks: the card says so from the next listing
      if (ref.kind === 'stored') await refresh().catch(() => {});
    } finally {
      settled = true;
      setLoading(null);
    }
  }, [engine, refresh]);

  // Another tab (or this tab's worker) stored, finished or deleted a model: list what is stored now.
  // A download running elsewhere is listed (as a partial) once its progress shows it, at most once a second.
  const storedRef = useRef(stored);
  storedRef.current = stored;
  const lastLook = useRef(0);
  useTabMessages((msg) => {
    const unseen = msg.type === 'progress' && !storedRef.current.some((m) => m.id === msg.id) && Date.now() - lastLook.current > 1000;
    if (unseen) lastLook.current = Date.now();
    if (unseen || msg.type === 'done' || msg.type === 'failed' || msg.type === 'deleted' || msg.type === 'models-changed') void refresh().catch(() => {});
  });

  // The worker died: it is restarted with the model it had (client.ts); show how that goes.
  useEffect(() => engine.onEngineEvent((e: EngineEvent) => {
    if (e.kind === 'restarting') {
      const name = e.name ?? 'the model';
      setLoaded(null);
      setRestarting(e.model ? { name } : null);
      setNotice(`The engine stopped (${e.reason}). Restarting it${e.model ? ` and loading ${name} again` : ''}…`);
    } else if (e.kind === 'ready') {
      setRestarting(null);
      setLoaded(e.loaded);
      if (e.error) setLoadError(e.error);
      setNotice((n) => (n === null ? null
        : `The engine stopped and was restarted${e.loaded ? `; ${e.loaded.name} is loaded again` : ''}.`));
      void refresh().catch(() => {});
    } else {
      // it keeps dying: whatever was loaded must not load by itself again on the next visit either
      if (e.kind === 'gave-up' && e.model && localStorage.getItem(LAST_MODEL) === JSON.stringify(e.model)) localStorage.removeItem(LAST_MODEL);
      setRestarting(null);
      setLoaded(null);
      setNotice(null);
      setLoadError(e.message);
    }
  }), [engine, refresh]);

  // Start-up: catalogue and stored models.
  const [started, setStarted] = useState(false);
  useEffect(() => {
    void (async () => {
      const [cat] = await Promise.all([loadCatalogue().catch(() => []), refresh().catch(() => {})]);
      setCatalogue(cat);
      setStarted(true);
    })();
  }, [refresh]);

  // Then the last model used (or the bundled demo), once this device's engine is the chosen one:
  // with a remote server or WebLLM chosen, nothing is loaded until the user switches back.
  const autoLoaded = useRef(false);
  useEffect(() => {
    if (!active || !started || autoLoaded.current) return;
    autoLoaded.current = true;
    void (async () => {
      const demo = catalogue.find((e) => e.bundled);
      const last = localStorage.getItem(LAST_MODEL);
      const ref: ModelRef | undefined = last ? currentRef(JSON.parse(last) as ModelRef, catalogue) : demo && bundledRef(demo);
      if (ref) await load(ref);
      if (ref?.kind === 'stored' && demo && !(await engine.loadedModel())) await load(bundledRef(demo));
    })();
  }, [active, started, catalogue, engine, load]);

  const remove = useCallback(async (id: string) => {
    try {
      await engine.deleteModel(id);
      patch(id, null);
      if (loaded?.ref.kind === 'stored' && loaded.ref.id === id) setLoaded(null);
    } catch (e) {
      setLoadError(errorMessage(e));
    }
    await refresh();
  }, [engine, loaded, patch, refresh]);

  const importFiles = useCallback(async (files: File[]) => {
    const id = `import:${files.map((f) => f.name).join(',')}`;
    const started = Date.now();
    askPersistence();
    patch(id, { id, name: files.map((f) => f.name).join(', '), kind: 'import', state: 'running' });
    try {
      await engine.importFiles(files, progressOf(id));
      patch(id, null);
    } catch (e) {
      patch(id, { state: 'failed', error: lostWorker(e) ? IMPORT_CUT : transferErrorText(e) });
      if (lostWorker(e)) await dropCutImports(engine, started);
    }
    await refresh();
  }, [engine, patch, progressOf, refresh]);

  const importFolder = useCallback(async (folder: FolderImportRequest['folder'], type: FolderImportType) => {
    const started = Date.now();
    const id = `convert:${folder.name}:${type}:${started}`;
    askPersistence();
    const mlc = isMLCFolder(folder.files.map((f) => f.path)); // stored as it is, in its own quantization
    patch(id, { id, name: mlc ? `${folder.name} (MLC)` : `${folder.name} → ${type}`, kind: 'convert', state: 'running' });
    try {
      await engine.importFolder({ importId: id, folder, type }, (convert) => setTransfers((all) => (
        all[id]?.state === 'running' ? { ...all, [id]: { ...all[id], convert } } : all)));
      patch(id, null);
    } catch (e) {
      // the conversion is stored atomically: whatever failed, nothing of it is left (a dead worker
      // could not clean up: its part is dropped here)
      patch(id, { state: 'failed', error: errorCode(e) === 'ABORTED' ? 'Cancelled; nothing was stored.' : lostWorker(e) ? IMPORT_CUT : `${errorMessage(e)} Nothing was stored.` });
      if (lostWorker(e)) await dropCutImports(engine, started);
    }
    await refresh();
  }, [engine, patch, refresh]);

  const cancelImport = useCallback((id: string) => void engine.cancelImport(id), [engine]);
  const exportModel = useCallback((id: string) => engine.exportModel(id), [engine]);

  const download = useCallback(async (req: DownloadRequest) => {
    askPersistence();
    patch(req.id, { id: req.id, name: req.name, kind: 'download', state: 'running', request: req, error: undefined });
    try {
      await engine.download(req, progressOf(req.id));
      patch(req.id, null);
    } catch (e) {
      const paused = errorCode(e) === 'ABORTED';
      // a download followed in another tab that stopped there says so; one paused here needs no words
      setTransfers((all) => ({ ...all, [req.id]: { ...all[req.id], ...(paused
        ? { state: 'paused', error: all[req.id]?.progress?.otherTab ? errorMessage(e) : undefined }
        : lostWorker(e) ? { state: 'paused', error: DOWNLOAD_CUT }
        : { state: 'failed', error: transferErrorText(e) }) } }));
    }
    await refresh();
  }, [engine, patch, progressOf, refresh]);

  const redownload = useCallback(async (m: StoredModel) => {
    if (!m.source.url) return;
    const sha256 = m.files[0]?.sha256 ?? catalogue.find((e) => e.id === m.id)?.sha256;
    try {
      await engine.deleteModel(m.id);
    } catch (e) {
      setLoadError(errorMessage(e));
      return;
    }
    await download({ id: m.id, url: m.source.url, name: m.name, ...(sha256 ? { sha256 } : {}) });
  }, [catalogue, download, engine]);

  const pause = useCallback((id: string) => void engine.pauseDownload(id), [engine]);
  const dismiss = useCallback((id: string) => patch(id, null), [patch]);

  return {
    catalogue, stored, loaded, loading: loading ?? restarting, loadError, notice, transfers: Object.values(transfers),
    load, remove, importFiles, importFolder, cancelImport, exportModel, download, redownload, pause, dismiss,
  };
}

/**
 * An import cut off by the worker's death leaves its model partly stored (the worker deletes it on any
 * failure it lives to see). Such a part cannot be resumed (the files are the user's), so it goes: the
 * partial file imports (no URL) created since this import started.
 */
async function dropCutImports(engine: EngineClient, since: number): Promise<void> {
  const cut = (await engine.listModels().catch(() => [])).filter((m) => !m.complete && m.source.kind === 'file' && m.createdAt >= since - 1000);
  for (const m of cut) await engine.deleteModel(m.id).catch(() => {});
}
