// The worker's view of IndexedDB model storage: list, delete, import, resumable downloads with
// pause (abort) per model id. Manifests are mapped to the plain StoredModel the UI sees.
import type { ModelInput } from '../engine/load.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { blobSource } from '../formats/blob-source.ts';
import { openMLCFolder } from '../formats/mlc/folder.ts';
import { downloadModel } from '../storage/downloads.ts';
import { importModelFiles } from '../storage/import-file.ts';
import { modelSize, modelStoredBytes, type ModelManifest } from '../storage/manifest.ts';
import { Sha256 } from '../storage/integrity.ts';
import { exclusiveModelDelete } from '../storage/model-lock.ts';
import { defaultShardCache } from '../storage/shard-cache.ts';
import { storedFolder } from '../storage/stored-folder.ts';
import { IntegrityError } from '../storage/storage-errors.ts';
import { EngineError } from '../shared/errors.ts';
import type { Callback, DownloadRequest, ExportedFile, FolderImportProgress, FolderImportRequest, StoredModel, TransferProgress } from './api.ts';
import { importFolder } from './folder-import.ts';
import { deviceFitRequest } from './fit.ts';
import { sharedDownload } from './shared-download.ts';
import { postTabMessage } from './tab-messages.ts';

function toStored(m: ModelManifest, missingChunks = 0): StoredModel {
  return {
    id: m.id,
    name: m.name,
    files: m.files.map((f) => ({ name: f.name, size: f.size, ...(f.sha256 ? { sha256: f.sha256 } : {}) })),
    size: modelSize(m),
    storedBytes: modelStoredBytes(m),
    complete: m.complete,
    missingChunks,
    source: { ...m.source },
    createdAt: m.createdAt,
    format: m.format ?? 'gguf',
    ...(m.quantization ? { quantization: m.quantization } : {}),
  };
}

/** A stored model ready to load: `input()` opens it (again, per attempt: a failed load closes what it opened). */
export interface OpenedModel {
  name: string;
  input: () => Promise<ModelInput>;
}

export class ModelStore {
  /** this tab's downloads; `writing`: it holds the model's lock (false: it follows another tab's) */
  private readonly downloads = new Map<string, { ctrl: AbortController; writing: boolean; settled: Promise<unknown> }>();
  private readonly imports = new Map<string, AbortController>();

  /** Every stored model, each checked for chunks the browser evicted (keys only, no bytes read). */
  async list(): Promise<StoredModel[]> {
    const cache = defaultShardCache();
    const all = await cache.listModels();
    return Promise.all(all.map(async (m) => toStored(m, await cache.missingChunks(m))));
  }

  /**
   * Stops this tab's own download of the model first (following another tab's goes on). A model
   * another tab is writing is refused (ModelBusyError) rather than waited for: a multi-GB
   * download can take an hour, and the user can pause it in that tab. So is a model another tab has
   * loaded (its layer streaming may still read the stored weights).
   */
  async delete(id: string): Promise<void> {
    const mine = this.downloads.get(id);
    if (mine?.writing) {
      mine.ctrl.abort();
      await mine.settled;
    }
    const name = (await defaultShardCache().getManifest(id))?.name ?? id;
    await exclusiveModelDelete(id, name, () => defaultShardCache().deleteModel(id));
    postTabMessage({ type: 'deleted', id });
  }

  async importFiles(files: File[], onProgress?: Callback<TransferProgress>): Promise<StoredModel> {
    // a model this device cannot hold even with layer streaming is refused before it is copied
    const m = toStored(await importModelFiles(files, { onProgress, fit: await deviceFitRequest() }));
    postTabMessage({ type: 'models-changed' });
    return m;
  }

  async importFolder(req: FolderImportRequest, onProgress?: Callback<FolderImportProgress>): Promise<StoredModel> {
    const ctrl = new AbortController();
    this.imports.set(req.importId, ctrl);
    try {
      const m = toStored(await importFolder(req, { signal: ctrl.signal, onProgress, fit: await deviceFitRequest() }));
      postTabMessage({ type: 'models-changed' });
      return m;
    } finally {
      if (this.imports.get(req.importId) === ctrl) this.imports.delete(req.importId);
    }
  }

  cancelImport(importId: string): void {
    this.imports.get(importId)?.abort();
  }

  async exportFile(id: string, fileIndex = 0): Promise<ExportedFile> {
    const m = await defaultShardCache().getManifest(id);
    if (!m) throw new EngineError('BAD_ARGUMENT', `No stored model with id "${id}"; it may have been deleted.`);
    if (m.format === 'mlc') throw new EngineError('BAD_ARGUMENT', `${m.name} is stored as MLC weights, not a GGUF file; it cannot be exported as .gguf.`);
    return { name: m.files[fileIndex]?.name ?? `${id}.gguf`, blob: await defaultShardCache().fileBlob(id, fileIndex) };
  }

  async download(req: DownloadRequest, onProgress?: Callback<TransferProgress>): Promise<StoredModel> {
    if (this.downloads.has(req.id)) throw new EngineError('BAD_ARGUMENT', `"${req.name}" is already downloading.`);
    const ctrl = new AbortController();
    const entry = { ctrl, writing: false, settled: Promise.resolve() as Promise<unknown> };
    const run = sharedDownload(req, (progress) => {
      entry.writing = true;
      return this.write(req, progress, ctrl.signal);
    }, onProgress, ctrl.signal);
    entry.settled = run.catch(() => {});
    this.downloads.set(req.id, entry);
    try {
      return toStored(await run);
    } finally {
      if (this.downloads.get(req.id) === entry) this.downloads.delete(req.id);
    }
  }

  private async write(req: DownloadRequest, onProgress: Callback<TransferProgress> | undefined, signal: AbortSignal): Promise<ModelManifest> {
    return downloadModel({
      url: req.url, modelId: req.id, name: req.name, expectedSha256: req.sha256, expectedSize: req.size,
      signal, onProgress, fit: await deviceFitRequest(),
    });
  }

  /** Pauses this tab's download; a tab following another tab's download stops following. */
  pause(id: string): void {
    this.downloads.get(id)?.ctrl.abort();
  }

  async open(id: string): Promise<OpenedModel> {
    const cache = defaultShardCache();
    const m = await cache.getManifest(id);
    if (!m) throw new EngineError('BAD_ARGUMENT', `No stored model with id "${id}"; it may have been deleted.`);
    if (m.format === 'mlc') return { name: m.name, input: async () => openMLCFolder(await storedFolder(cache, id)) };
    const sources: ByteSource[] = await cache.openModelSource(id);
    return { name: m.name, input: async () => sources };
  }
}

/**
 * A model shipped with the app: small, fetched whole (the service worker serves it offline), and
 * checked against the catalogue's SHA-256 when it has one.
 */
export async function openBundled(url: string, name: string, sha256?: string): Promise<ByteSource> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new EngineError('IO', `Cannot fetch the bundled model ${name}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new EngineError('IO', `Cannot fetch the bundled model ${name}: HTTP ${res.status}.`);
  const blob = await res.blob();
  if (sha256) {
    const actual = new Sha256().update(new Uint8Array(await blob.arrayBuffer())).hex();
    const file = decodeURIComponent(new URL(url, globalThis.location?.href).pathname.split('/').pop() || name);
    if (actual !== sha256.trim().toLowerCase()) throw new IntegrityError(file, sha256.trim().toLowerCase(), actual, 'bundled');
  }
  return blobSource(blob, name);
}
