// MLC-LLM's weight index: tensor-cache.json (older folders: ndarray-cache.json), as apache/tvm's
// tvmjs.dump_tensor_cache writes it: records[] of shards {dataPath, format, nbytes, records[] of
// {name, shape, dtype, format ('raw' | 'f32-to-bf16': f32 stored as its top 16 bits), nbytes,
// byteOffset}]}. Parsed and checked before a weight is read, so a bad file fails naming the record.
import { EngineError } from '../../shared/errors.ts';

export interface CacheRecord {
  readonly name: string;
  /** row-major, as MLC writes it */
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly format: 'raw' | 'f32-to-bf16';
  readonly nbytes: number;
  readonly byteOffset: number;
  /** index into TensorCache.shards */
  readonly shard: number;
}

export interface CacheShard {
  readonly dataPath: string;
  readonly nbytes: number;
}

export interface TensorCache {
  readonly shards: readonly CacheShard[];
  readonly records: ReadonlyMap<string, CacheRecord>;
}

export const TENSOR_CACHE_NAMES = ['tensor-cache.json', 'ndarray-cache.json'];

const DTYPE_BYTES: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, uint32: 4, int32: 4, int8: 1, uint8: 1 };

/** Bytes per element as stored (f32-to-bf16 keeps two of an f32's four). */
export function storedElementBytes(dtype: string, format: string): number | undefined {
  return format === 'f32-to-bf16' && dtype === 'float32' ? 2 : DTYPE_BYTES[dtype];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks the parsed JSON of `file` (inside folder `folder`) and returns its shards and records. */
export function parseTensorCache(json: unknown, folder: string, file: string): TensorCache {
  const where = `${folder}/${file}`;
  const bad = (what: string) => new EngineError('MLC_CORRUPT', `${where}: ${what}; the file is corrupt or not an MLC-LLM tensor cache.`);
  const top = json as { records?: unknown } | null;
  if (!top || typeof top !== 'object' || !Array.isArray(top.records)) throw bad('there is no records array');
  const shards: CacheShard[] = [];
  const records = new Map<string, CacheRecord>();
  for (const [i, s] of (top.records as unknown[]).entries()) {
    const sh = s as Record<string, unknown> | null;
    if (!sh || typeof sh !== 'object') throw bad(`shard record ${i} is not an object`);
    if (typeof sh.dataPath !== 'string' || sh.dataPath === '' || /[\\/]/.test(sh.dataPath)) throw bad(`shard record ${i} has no plain dataPath`);
    if (!isCount(sh.nbytes)) throw bad(`shard ${sh.dataPath} has no byte count (nbytes)`);
    if (!Array.isArray(sh.records)) throw bad(`shard ${sh.dataPath} has no records array`);
    const shard = shards.length;
    shards.push({ dataPath: sh.dataPath, nbytes: sh.nbytes });
    for (const r of sh.records as unknown[]) {
      const rec = r as Record<string, unknown> | null;
      const name = typeof rec?.name === 'string' ? rec.name : undefined;
      if (!rec || name === undefined) throw bad(`a record of shard ${sh.dataPath} has no name`);
      const t = `tensor '${name}' (in ${sh.dataPath})`;
      if (!Array.isArray(rec.shape) || !rec.shape.every(isCount)) throw bad(`${t} has no valid shape`);
      const format = rec.format ?? 'raw';
      if (format !== 'raw' && format !== 'f32-to-bf16') throw bad(`${t} has the unknown format ${JSON.stringify(format)}`);
      const dtype = String(rec.dtype);
      const eb = storedElementBytes(dtype, format);
      if (eb === undefined) throw bad(`${t} has the unknown dtype ${JSON.stringify(rec.dtype)}`);
      if (!isCount(rec.nbytes) || !isCount(rec.byteOffset)) throw bad(`${t} has no valid nbytes/byteOffset`);
      const n = (rec.shape as number[]).reduce((a, b) => a * b, 1);
      if (n * eb !== rec.nbytes) throw bad(`${t} is ${rec.nbytes} bytes, but ${JSON.stringify(rec.shape)} ${dtype} needs ${n * eb}`);
      if (rec.byteOffset + rec.nbytes > sh.nbytes) {
        throw bad(`${t} lies beyond its shard (bytes ${rec.byteOffset}..${rec.byteOffset + rec.nbytes} of ${sh.nbytes})`);
      }
      if (records.has(name)) throw bad(`tensor '${name}' is listed twice`);
      records.set(name, { name, shape: rec.shape as number[], dtype, format, nbytes: rec.nbytes, byteOffset: rec.byteOffset, shard });
    }
  }
  return { shards, records };
}
