// Shared test helpers: deterministic fake model bytes and a fresh IndexedDB per cache.
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createStore, keys } from 'idb-keyval';
import { ShardCache } from '../../src/storage/shard-cache.ts';

export const CHUNK = 64 * 1024;

/** `size` pseudo-random bytes starting with `magic` (xorshift32, so reruns are identical). */
export function modelBytes(size: number, seed = 1, magic = 'GGUF'): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  for (let i = 0; i < magic.length && i < size; i++) out[i] = magic.charCodeAt(i);
  return out;
}

export const nodeSha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let dbCounter = 0;

/** A cache on its own database; `reopen()` gives a second instance on the same data (a "page reload"). */
export function freshCache(chunkSize = CHUNK): { cache: ShardCache; reopen: () => ShardCache; rawKeys: () => Promise<string[]> } {
  const dbName = `test-db-${process.pid}-${++dbCounter}`;
  const cache = new ShardCache({ dbName, chunkSize, lruChunks: 2 });
  const raw = createStore(dbName, 'shards');
  return {
    cache,
    reopen: () => new ShardCache({ dbName, chunkSize, lruChunks: 2 }),
    rawKeys: async () => (await keys<string>(raw)).sort(),
  };
}

/** Concatenates every stored chunk of file `fileIndex` (reads IndexedDB directly through the cache). */
export async function storedFileBytes(cache: ShardCache, id: string, fileIndex = 0): Promise<Uint8Array> {
  const m = await cache.getManifest(id);
  if (!m) throw new Error(`no manifest ${id}`);
  const parts: Uint8Array[] = [];
  for (let c = 0; c < m.files[fileIndex].chunks; c++) parts.push(await cache.readChunk(id, fileIndex, c));
  return Buffer.concat(parts);
}
