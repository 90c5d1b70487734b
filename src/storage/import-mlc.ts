// Stores an MLC-LLM weight folder as it is (no conversion): the folder is first opened the way a
// load will open it (config, tensor-cache.json, every shard present and full size, the family and
// quantization supported) and the device's memory pre-flight runs on that — only then is a byte
// stored. The files go in as one multi-file model marked `format: 'mlc'`, complete only once every
// file is in; on any failure or cancel the partly stored model is deleted.
import { blobFolder, type PickedFolder } from '../formats/blob-folder.ts';
import { MLC_CONFIG } from '../formats/mlc/detect.ts';
import { openMLCFolder } from '../formats/mlc/folder.ts';
import { parseTensorCache, TENSOR_CACHE_NAMES } from '../formats/mlc/tensor-cache.ts';
import { readJsonFile, type FolderFiles } from '../formats/safetensors/set.ts';
import { fitOnDevice, refuseIfTooLarge, type FitRequest } from '../models/fit.ts';
import { checkModelSupport } from '../models/support.ts';
import { check } from '../shared/assert.ts';
import { checkModelId, modelIdFrom, type ModelManifest } from './manifest.ts';
import { ensureQuota, ProgressMeter } from './quota.ts';
import { defaultShardCache, type ShardCache } from './shard-cache.ts';
import { abortError } from './storage-errors.ts';

export interface FileStoreProgress {
  /** the file being stored, `index` of `count` (0-based) */
  file: string;
  index: number;
  count: number;
  fileBytes: number;
  fileDoneBytes: number;
  doneBytes: number;
  totalBytes: number;
  bytesPerSec: number;
  etaSec: number;
}

export interface MLCImportOptions {
  /** display name; defaults to the folder's name (and gives the id unless `modelId` is set) */
  name?: string;
  modelId?: string;
  signal?: AbortSignal;
  onProgress?: (p: FileStoreProgress) => void;
  cache?: ShardCache;
  fit?: FitRequest;
}

/** What a load reads (formats/mlc/folder.ts): other files of the folder (the TVM .wasm library, README) are not kept. */
async function filesToStore(dir: FolderFiles): Promise<string[]> {
  const cacheName = TENSOR_CACHE_NAMES.find((n) => dir.names.includes(n))!;
  const cache = parseTensorCache(await readJsonFile(dir, cacheName), dir.name, cacheName);
  const optional = ['tokenizer_config.json'].filter((n) => dir.names.includes(n));
  return [MLC_CONFIG, cacheName, 'tokenizer.json', ...optional, ...new Set(cache.shards.map((s) => s.dataPath))];
}

/** Checks the folder, then stores its files; resolves with the complete manifest. */
export async function importMLCFolder(picked: PickedFolder, opts: MLCImportOptions = {}): Promise<ModelManifest> {
  const dir = blobFolder(picked);
  const name = opts.name ?? picked.name;
  const id = opts.modelId ?? modelIdFrom(name);
  checkModelId(id);
  const file = await openMLCFolder(dir); // typed MLC errors name the file: nothing is stored yet
  let keep: string[];
  try {
    const { h, arch } = checkModelSupport(file);
    if (opts.fit) refuseIfTooLarge(fitOnDevice(file, h, arch, opts.fit), name);
    keep = await filesToStore(dir);
  } finally {
    await file.close();
  }
  const blobs = new Map(picked.files.map((f) => [f.path, f.file]));
  const files = keep.map((n) => ({ name: n, blob: blobs.get(n)! }));
  const cache = opts.cache ?? defaultShardCache();
  const existing = await cache.getManifest(id);
  check(!existing?.complete, 'BAD_ARGUMENT', `A model with id "${id}" is already stored; delete it first.`);
  if (existing) await cache.deleteModel(id);
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  await ensureQuota(name, total);
  if (opts.signal?.aborted) throw abortError(`Importing ${name}`);
  await cache.createModel({
    id, name, source: { kind: 'file' }, format: 'mlc', quantization: file.mlc.quantization,
    files: files.map((f) => ({ name: f.name, size: f.blob.size })),
  });
  let at = { index: 0, done: 0 }; // the file being stored, and its bytes stored so far
  let speed = { bytesPerSec: 0, etaSec: Infinity };
  const report = (doneBytes: number): void => opts.onProgress?.({
    file: files[at.index].name, index: at.index, count: files.length, fileBytes: files[at.index].blob.size,
    fileDoneBytes: at.done, doneBytes, totalBytes: total, ...speed,
  });
  const meter = new ProgressMeter(total, (t) => { speed = { bytesPerSec: t.bytesPerSec, etaSec: t.etaSec }; report(t.loaded); }, 3000, 50);
  try {
    let before = 0;
    for (const [index, f] of files.entries()) {
      at = { index, done: 0 };
      report(before); // every file shows, however fast the one before went
      const base = before;
      await cache.putFile(id, index, f.blob, {
        signal: opts.signal,
        onBytes: (n) => { at.done = n; meter.update(base + n); },
      });
      before += f.blob.size;
    }
    if (opts.signal?.aborted) throw abortError(`Importing ${name}`);
    return await cache.markComplete(id);
  } catch (e) {
    await cache.deleteModel(id).catch(() => {});
    throw e;
  }
}
