// "Import folder": a Hugging Face folder picked in the page is converted to a GGUF here, in the
// engine worker, with the row chunks quantized on a pool of Web Workers, and the file goes straight
// into the shard cache as it is written (storage/import-converted.ts: nothing stays behind on a
// failure or cancel). The stored model is then listed and loaded like any imported GGUF.
// An MLC-LLM folder is not converted: its files are stored as they are (storage/import-mlc.ts).
import { convertFolder, type ConvertProgress } from '../engine/convert.ts';
import { blobFolder } from '../formats/blob-folder.ts';
import { isMLCFolder } from '../formats/mlc/detect.ts';
import type { FitRequest } from '../models/fit.ts';
import { createBrowserQuantizePool } from '../quant/browser-quantize-pool.ts';
import { importConverted } from '../storage/import-converted.ts';
import { importMLCFolder } from '../storage/import-mlc.ts';
import type { ModelManifest } from '../storage/manifest.ts';
import { ProgressMeter } from '../storage/quota.ts';
import type { Callback, FolderImportProgress, FolderImportRequest } from './api.ts';
import { orderedProgress } from './ordered-progress.ts';

export interface FolderImportOptions {
  signal?: AbortSignal;
  onProgress?: Callback<FolderImportProgress>;
  fit?: FitRequest;
}

/** The stored model's display name: the folder and the type it was converted to. */
export function folderModelName(req: Pick<FolderImportRequest, 'folder' | 'type'>): string {
  return req.type === 'keep' || isMLCFolder(req.folder.files.map((f) => f.path)) ? req.folder.name : `${req.folder.name} ${req.type}`;
}

/** An MLC folder keeps its own quantization: `req.type` does not apply. */
function importMLC(req: FolderImportRequest, opts: FolderImportOptions): Promise<ModelManifest> {
  return importMLCFolder(req.folder, {
    name: folderModelName(req), signal: opts.signal, fit: opts.fit,
    onProgress: (p) => opts.onProgress?.({
      unit: 'file', tensor: p.file, index: p.index, count: p.count, doneBytes: p.doneBytes, totalBytes: p.totalBytes,
      tensorBytes: p.fileBytes, tensorDoneBytes: p.fileDoneBytes, bytesPerSec: p.bytesPerSec, etaSec: p.etaSec, workers: 1,
    }),
  });
}

export async function importFolder(req: FolderImportRequest, opts: FolderImportOptions = {}): Promise<ModelManifest> {
  const progress = orderedProgress(opts.onProgress);
  const manifest = await (isMLCFolder(req.folder.files.map((f) => f.path)) ? importMLC : convertAndStore)(req, { ...opts, onProgress: progress.report });
  await progress.flush();
  return manifest;
}

async function convertAndStore(req: FolderImportRequest, opts: FolderImportOptions): Promise<ModelManifest> {
  const dir = blobFolder(req.folder);
  const pool = createBrowserQuantizePool();
  const workers = pool?.size ?? 1;
  let meter: ProgressMeter | undefined;
  let last: ConvertProgress | undefined;
  const onProgress = (p: ConvertProgress): void => {
    last = p;
    meter ??= new ProgressMeter(p.totalBytes, (t) => last && opts.onProgress?.({
      unit: 'tensor', tensor: last.tensor, index: last.index, count: last.count, doneBytes: last.doneBytes, totalBytes: last.totalBytes,
      tensorBytes: last.tensorBytes, tensorDoneBytes: last.tensorDoneBytes, bytesPerSec: t.bytesPerSec, etaSec: t.etaSec, workers,
    }), 3000, 50);
    meter.update(p.doneBytes);
  };
  try {
    return await importConverted((sink) => convertFolder(dir, req.type, sink, {
      ...(pool ? { convert: pool.convert, inFlight: 2 * pool.size } : {}),
      signal: opts.signal,
      onProgress,
    }), { name: folderModelName(req), signal: opts.signal, fit: opts.fit });
  } finally {
    await pool?.close();
  }
}
