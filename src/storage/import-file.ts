// Import of local GGUF files (one file, or the shards of a split model) into the cache,
// chunk by chunk through Blob.slice so a multi-GB file is never read whole.
import { check } from '../shared/assert.ts';
import { EngineError } from '../shared/errors.ts';
import { checkGGUFHead, checkModelId, modelIdFrom, type ModelManifest } from './manifest.ts';
import { ensureQuota, ProgressMeter, requestPersistence, type TransferProgress } from './quota.ts';
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
}

const SHARD_RE = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

/** Puts split shards (`x-00001-of-00003.gguf` …) in file order and checks none is missing. */
export function orderShards<T extends { name: string }>(files: readonly T[]): T[] {
  check(files.length > 0, 'BAD_ARGUMENT', 'No file selected.');
  const parsed = files.map((f) => ({ f, m: SHARD_RE.exec(f.name) }));
  if (files.length === 1 && (!parsed[0].m || parsed[0].m[3] === '00001')) return [...files];
  const bad = parsed.find((p) => !p.m);
  if (bad) {
    throw new EngineError('BAD_ARGUMENT',
      `${bad.f.name} is not a shard of a split model (expected names like model-00001-of-00003.gguf); import it on its own.`);
  }
  const [, prefix, , count] = parsed[0].m!;
  const n = Number(count);
  const byIndex = new Map<number, T>();
  for (const { f, m } of parsed) {
    check(m![1] === prefix && m![3] === count, 'BAD_ARGUMENT',
      `${f.name} does not belong to the same split model as ${parsed[0].f.name}.`);
    const i = Number(m![2]);
    check(i >= 1 && i <= n && !byIndex.has(i), 'BAD_ARGUMENT', `${f.name}: unexpected or repeated shard number.`);
    byIndex.set(i, f);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new EngineError('BAD_ARGUMENT',
      `Split model ${prefix} is missing shard(s) ${missing.map((i) => String(i).padStart(5, '0')).join(', ')} of ${count}; select all of them.`);
  }
  return Array.from({ length: n }, (_, i) => byIndex.get(i + 1)!);
}

function baseName(fileName: string): string {
  return (SHARD_RE.exec(fileName)?.[1] ?? fileName).replace(/\.gguf$/i, '');
}

/** Stores the files as one model and marks it complete; on any failure nothing is left. */
export async function importModelFiles(files: readonly NamedBlob[], opts: ImportOptions = {}): Promise<ModelManifest> {
  const ordered = orderShards(files);
  const cache = opts.cache ?? defaultShardCache();
  const name = opts.name ?? baseName(ordered[0].name);
  const id = opts.modelId ?? modelIdFrom(name);
  checkModelId(id);
  void requestPersistence();
  const existing = await cache.getManifest(id);
  check(!existing?.complete, 'BAD_ARGUMENT', `A model with id "${id}" is already stored; delete it first.`);
  if (existing) await cache.deleteModel(id);
  // Every shard is checked before anything is stored.
  for (const f of ordered) checkGGUFHead(new Uint8Array(await f.slice(0, 4).arrayBuffer()), f.name);
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
