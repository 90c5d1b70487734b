// The worker's view of IndexedDB model storage: list, delete, import, resumable downloads with
// pause (abort) per model id. Manifests are mapped to the plain StoredModel the UI sees.
import type { ByteSource } from '../formats/byte-source.ts';
import { blobSource } from '../formats/blob-source.ts';
import { downloadModel } from '../storage/downloads.ts';
import { importModelFiles } from '../storage/import-file.ts';
import { modelSize, modelStoredBytes, type ModelManifest } from '../storage/manifest.ts';
import { exclusiveModelWrite } from '../storage/model-lock.ts';
import { defaultShardCache } from '../storage/shard-cache.ts';
import { EngineError } from '../shared/errors.ts';
import type { Callback, DownloadRequest, ExportedFile, FolderImportProgress, FolderImportRequest, StoredModel, TransferProgress } from './api.ts';
import { importFolder } from './folder-import.ts';
import { deviceFitRequest } from './fit.ts';
import { sharedDownload } from './shared-download.ts';
import { postTabMessage } from './tab-messages.ts';

function toStored(m: ModelManifest): StoredModel {
  return {
    id: m.id,
    name: m.name,
    files: m.files.map((f) => ({ name: f.name, size: f.size, ...(f.sha256 ? { sha256: f.sha256 } : {}) })),
    size: modelSize(m),
    storedBytes: modelStoredBytes(m),
    complete: m.complete,
    source: { ...m.source },
    createdAt: m.createdAt,
  };
}

export class ModelStore {
  /** this tab's downloads; `writing`: it holds the model's lock (false: it follows another tab's) */
  private readonly downloads = new Map<string, { ctrl: AbortController; writing: boolean; settled: Promise<unknown> }>();
  private readonly imports = new Map<string, AbortController>();

  async list(): Promise<StoredModel[]> {
    return (await defaultShardCache().listModels()).map(toStored);
  }

  /**
   * Stops this tab's own download of the model first (following another tab's goes on). A model
   * another tab is writing is refused (ModelBusyError) rather than waited for: a multi-GB
   * download can take an hour, and the user can pause it in that tab.
   */
  async delete(id: string): Promise<void> {
    const mine = this.downloads.get(id);
    if (mine?.writing) {
      mine.ctrl.abort();
      await mine.settled;
    }
    const name = (await defaultShardCache().getManifest(id))?.name ?? id;
    await exclusiveModelWrite(id, name, () => defaultShardCache().deleteModel(id));
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

  async open(id: string): Promise<{ name: string; sources: ByteSource[] }> {
    const m = await defaultShardCache().getManifest(id);
    if (!m) throw new EngineError('BAD_ARGUMENT', `No stored model with id "${id}"; it may have been deleted.`);
    return { name: m.name, sources: await defaultShardCache().openModelSource(id) };
  }
}

/** A model shipped with the app: small, fetched whole (the service worker serves it offline). */
export async function openBundled(url: string, name: string): Promise<ByteSource> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new EngineError('IO', `Cannot fetch the bundled model ${name}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new EngineError('IO', `Cannot fetch the bundled model ${name}: HTTP ${res.status}.`);
  return blobSource(await res.blob(), name);
}
