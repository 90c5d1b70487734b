// Import of local GGUF files (one file, or the shards of a split model) into the cache,
// chunk by chunk through Blob.slice so a multi-GB file is never read whole.
import { blobSource } from '../formats/blob-source.ts';
import { check } from '../shared/assert.ts';
import type { FitRequest } from '../models/fit.ts';
import { checkModelParts, readPartHeader } from './header-check.ts';
import { checkGGUFHead, checkModelId, modelIdFrom, type ModelManifest } from './manifest.ts';
import { exclusiveModelWrite } from './model-lock.ts';
import { ensureQuota, ProgressMeter, type TransferProgress } from './quota.ts';
import { defaultShardCache, type ShardCache } from './shard-cache.ts';

/** A File, or any Blob with a name (what a file picker or drag-and-drop gives). */
export type NamedBlob = Blob & { readonly name: string };

export interface ImportOptions {
  /** Defaults to an id derived from the file name. */
  modelId?: string;
  /** Display name; defaults to the file name without shard suffix. */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  cache?: ShardCache;
  /** the device: a model whose memory pre-flight says does-not-fit is refused before anything is stored */
  fit?: FitRequest;
}

const SHARD_RE = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

function baseName(fileName: string): string {
  return (SHARD_RE.exec(fileName)?.[1] ?? fileName).replace(/\.gguf$/i, '');
}

/** Stores the files as one model and marks it complete; on any failure nothing is left. */
export async function importModelFiles(files: readonly NamedBlob[], opts: ImportOptions = {}): Promise<ModelManifest> {
  check(files.length > 0, 'BAD_ARGUMENT', 'No file selected.');
  // Headers only (Blob.slice): a model this engine cannot run, or an incomplete or mixed split
  // set, is refused before anything is stored. The headers, not the file names, give the order.
  const parts = await Promise.all(files.map((f, i) => readPartHeader(blobSource(f, f.name), i)));
  const ordered = checkModelParts(parts, opts.fit).map((p) => files[parts.indexOf(p)]);
  const cache = opts.cache ?? defaultShardCache();
  const name = opts.name ?? baseName(ordered[0].name);
  const id = opts.modelId ?? modelIdFrom(name);
  checkModelId(id);
  // a model of that id being written elsewhere (another tab's download) is refused, not clobbered
  return exclusiveModelWrite(id, name, () => storeFiles(cache, id, name, ordered, opts));
}

async function storeFiles(cache: ShardCache, id: string, name: string, ordered: NamedBlob[],
  opts: ImportOptions): Promise<ModelManifest> {
  const existing = await cache.getManifest(id);
  check(!existing?.complete, 'BAD_ARGUMENT', `A model with id "${id}" is already stored; delete it first.`);
  if (existing) await cache.deleteModel(id);
  const total = ordered.reduce((n, f) => n + f.size, 0);
  await ensureQuota(name, total);
  await cache.createModel({
    id,
    name,
    files: ordered.map((f) => ({ name: f.name, size: f.size })),
    source: { kind: 'file' },
  });
  const meter = new ProgressMeter(total, opts.onProgress);
  try {
    let before = 0;
    for (let i = 0; i < ordered.length; i++) {
      const base = before;
      await cache.putFile(id, i, ordered[i], {
        signal: opts.signal,
        checkHead: checkGGUFHead,
        onBytes: (n) => meter.update(base + n),
      });
      before += ordered[i].size;
    }
    return await cache.markComplete(id);
  } catch (e) {
    await cache.deleteModel(id).catch(() => {});
    throw e;
  }
}
