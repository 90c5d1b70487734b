// Shared test helpers: deterministic model files (a tiny valid GGUF plus padding) and a fresh IndexedDB per cache.
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createStore, keys } from 'idb-keyval';
import { ValueType } from '../../src/formats/gguf/constants.ts';
import { writeGGUF, type WriterEntry, type WriterTensor } from '../../src/formats/gguf/writer.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { ShardCache } from '../../src/storage/shard-cache.ts';

export const CHUNK = 64 * 1024;

type TinyTensor = WriterTensor & { data: Uint8Array };
export interface TinyModel { meta: WriterEntry[]; tensors: TinyTensor[] }

const u32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.UINT32 } });
const str = (key: string, value: string): WriterEntry => ({ key, value, type: { type: ValueType.STRING } });

/** A tiny llama that the engine's support check accepts (F32, dim 8, one layer, 8 tokens); `arch` renames it. */
export function tinyModel(arch = 'llama'): TinyModel {
  const tokens = ['<unk>', '<s>', '</s>', 'a', 'b', 'c', 'd', 'e'];
  const meta: WriterEntry[] = [
    str('general.architecture', arch), str('general.name', 'tiny'),
    u32(`${arch}.context_length`, 64), u32(`${arch}.embedding_length`, 8), u32(`${arch}.block_count`, 1),
    u32(`${arch}.feed_forward_length`, 16), u32(`${arch}.attention.head_count`, 2),
    str('tokenizer.ggml.model', 'llama'),
    { key: 'tokenizer.ggml.tokens', value: tokens, type: { type: ValueType.ARRAY, elemType: ValueType.STRING } },
    { key: 'tokenizer.ggml.scores', value: new Float32Array(tokens.length), type: { type: ValueType.ARRAY, elemType: ValueType.FLOAT32 } },
    { key: 'tokenizer.ggml.token_type', value: Int32Array.from(tokens, (_, i) => (i < 3 ? 3 : 1)), type: { type: ValueType.ARRAY, elemType: ValueType.INT32 } },
  ];
  const f32 = (name: string, ...shape: number[]): TinyTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { name, type: GGMLType.F32, shape, byteSize: 4 * n, data: new Uint8Array(4 * n) };
  };
  const tensors = [
    f32('token_embd.weight', 8, 8), f32('output_norm.weight', 8),
    f32('blk.0.attn_norm.weight', 8), f32('blk.0.attn_q.weight', 8, 8), f32('blk.0.attn_k.weight', 8, 8),
    f32('blk.0.attn_v.weight', 8, 8), f32('blk.0.attn_output.weight', 8, 8), f32('blk.0.ffn_norm.weight', 8),
    f32('blk.0.ffn_gate.weight', 8, 16), f32('blk.0.ffn_up.weight', 8, 16), f32('blk.0.ffn_down.weight', 16, 8),
  ];
  return { meta, tensors };
}

/** `size` pseudo-random bytes (xorshift32, so reruns are identical). */
function noise(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function padded(gguf: Uint8Array, size: number, seed: number): Uint8Array<ArrayBuffer> {
  if (gguf.length > size) throw new Error(`a ${size}-byte test file cannot hold its ${gguf.length}-byte GGUF`);
  const out = noise(size, seed);
  out.set(gguf);
  return out;
}

/** `size` pseudo-random bytes starting with `magic` (for byte-level storage tests). */
export function modelBytes(size: number, seed = 1, magic = 'GGUF'): Uint8Array<ArrayBuffer> {
  const out = noise(size, seed);
  for (let i = 0; i < magic.length && i < size; i++) out[i] = magic.charCodeAt(i);
  return out;
}

/** `size` bytes of a model file that passes the header check: a valid tiny GGUF, then pseudo-random padding. */
export function ggufBytes(size: number, seed = 1, model: TinyModel = tinyModel()): Uint8Array<ArrayBuffer> {
  return padded(writeGGUF(model.meta, model.tensors), size, seed);
}

/** The parts of `model` split the way llama.cpp's gguf-split does (metadata in part 1), padded to `sizes`. */
export function splitModelBytes(sizes: number[], seed = 1, model: TinyModel = tinyModel(),
  over: { count?: number; tensors?: number } = {}): Uint8Array<ArrayBuffer>[] {
  const n = sizes.length;
  const per = Math.ceil(model.tensors.length / n);
  return sizes.map((size, i) => {
    const split: WriterEntry[] = [
      { key: 'split.no', value: i, type: { type: ValueType.UINT16 } },
      { key: 'split.count', value: over.count ?? n, type: { type: ValueType.UINT16 } },
      { key: 'split.tensors.count', value: over.tensors ?? model.tensors.length, type: { type: ValueType.INT32 } },
    ];
    const gguf = writeGGUF(i === 0 ? [...model.meta, ...split] : split, model.tensors.slice(i * per, (i + 1) * per));
    return padded(gguf, size, seed + i);
  });
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
