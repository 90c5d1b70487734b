// What the WASM backend allocates, said before it happens: a model of its heap that takes the same
// calls the backend does (upload, alloc, KV cache, the lazy buffers ops create) and runs them on
// the same allocator (FreeListSpace), so the memory pre-flight counts rounding, fragmentation and
// page growth exactly as the backend meets them. The facts of the compiled kernels (activation
// blocks, four-token tiles, CHUNK, static data) are mirrored here; a test checks them against
// the built module.
import { getTraits } from '../../quant/traits.ts';
import { GGMLType } from '../../quant/types.ts';
import { kvRowBytes, type KVType } from '../kv-layout.ts';
import { FreeListSpace, committedBytes, heapAllocBytes } from './heap.ts';

/** Formats with an integer matmul (scripts/build-wasm.mjs FORMATS: qb, tiles, prep). */
export const WASM_INT8: Readonly<Record<string, { qb: number; tiles: boolean; prep?: true }>> = {
  q8_0: { qb: 32, tiles: true, prep: true }, q4_0: { qb: 32, tiles: true, prep: true }, q4_1: { qb: 32, tiles: false },
  q5_0: { qb: 32, tiles: false }, q5_1: { qb: 32, tiles: false }, q2_k: { qb: 256, tiles: false },
  q3_k: { qb: 256, tiles: false }, q4_k: { qb: 256, tiles: true }, q5_k: { qb: 256, tiles: true },
  q6_k: { qb: 256, tiles: true }, iq4_nl: { qb: 32, tiles: true, prep: true }, iq4_xs: { qb: 256, tiles: true },
  mlc_q4f16: { qb: 32, tiles: false }, mlc_q4f32: { qb: 32, tiles: false },
};

/** Per-thread scratch past CHUNK for a prepped row of `cols` (formats-q8x4.ts rowPrep4_<id>: one
 *  f32 scale per 32-value block, stored four at a time). */
export function rowPrepBytes(cols: number): number {
  return Math.ceil(cols / 128) * 16;
}

/** The kernels' CHUNK (matmul-core.ts): per-thread scratch starts at CHUNK floats. */
export const WASM_CHUNK = 4096;
/** Upper bound of the module's static data (its heapBase is 1472 bytes today; a test keeps it under). */
export const WASM_STATIC_BYTES = 2048;

/** Most tokens a batch may have for a format's integer kernel to beat the f32 one. */
export function int8MaxTokens(tiles: boolean): number {
  return tiles ? Infinity : 3;
}

/** Bytes of one token's 8-bit activation row (q8-acts.ts q8RowBytes). */
export function q8RowBytes(cols: number, qb: number): number {
  const nb = cols / qb;
  return (cols + nb * 4 + (cols >> 3) + ((nb + 3) >> 2) * 16 + 15) & ~15;
}

/** Per-thread scratch stride for a request of `bytes`. */
export function scratchStride(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

export interface WasmHeapModelOptions {
  threads: number;
  /** the module's heapBase; default WASM_STATIC_BYTES */
  heapBase?: number;
  /** false: every matmul on the f32 path (WasmBackendOptions.int8Matmul) */
  int8?: boolean;
}

/** A weight as the model sees it. */
export interface ModelWeight {
  readonly type: number;
  readonly cols: number;
  readonly rows: number;
  /** its f32 copy as a vector, once made */
  vec?: boolean;
}

export type HeapPart = 'weights' | 'kv' | 'scratch';

/** Replays the backend's allocations (wasm-backend.ts) on the backend's allocator. */
export class WasmHeapModel {
  private readonly space: FreeListSpace;
  private readonly threads: number;
  private readonly int8: boolean;
  private scratch = { ptr: 0, stride: 0 };
  private q8 = { ptr: 0, bytes: 0 };
  private rope = { ptr: 0, cap: 0 };
  /** bytes allocated and live, by what they are for */
  readonly parts: Record<HeapPart, number> = { weights: 0, kv: 0, scratch: 0 };

  constructor(o: WasmHeapModelOptions) {
    this.space = new FreeListSpace(heapAllocBytes(o.heapBase ?? WASM_STATIC_BYTES));
    this.threads = o.threads;
    this.int8 = o.int8 ?? true;
    this.ensureScratch(WASM_CHUNK * 4);
  }

  private alloc(bytes: number, part: HeapPart): number {
    this.parts[part] += heapAllocBytes(bytes);
    return this.space.alloc(bytes);
  }

  private release(ptr: number, bytes: number, part: HeapPart): void {
    this.parts[part] -= heapAllocBytes(bytes);
    this.space.release(ptr, bytes);
  }

  uploadWeight(type: number, cols: number, rows: number): ModelWeight {
    const t = getTraits(type, 'weight');
    this.alloc((cols / t.blockSize) * t.typeSize * rows, 'weights');
    return { type, cols, rows };
  }

  /** An f32 activation of `length` floats. */
  activation(length: number): void {
    this.alloc(length * 4, 'scratch');
  }

  createKVCache(slots: readonly number[], nCtx: number, kvDim: number, type: KVType): void {
    const bytes = slots.reduce((a, n) => a + n, 0) * kvRowBytes(type, kvDim);
    this.alloc(bytes, 'kv');
    this.alloc(bytes, 'kv');
    this.ensureScratch(nCtx * 16); // attention scores, four tokens at a time
  }

  /** rmsnorm / addBias read a weight as f32: a non-F32 one gets a copy, made once. */
  vector(w: ModelWeight): void {
    if (w.type === GGMLType.F32 || w.vec) return;
    w.vec = true;
    this.alloc(w.cols * 4, 'scratch');
  }

  /** The 8-bit activation buffer (and row-prep scratch) a matmul of nTokens needs, grown as the backend grows them. */
  matmul(w: ModelWeight, nTokens: number): void {
    const f = WASM_INT8[getTraits(w.type, 'weight').id];
    if (!this.int8 || !f || nTokens > int8MaxTokens(f.tiles)) return;
    const bytes = q8RowBytes(w.cols, f.qb) * nTokens;
    if (bytes > this.q8.bytes) {
      if (this.q8.bytes > 0) this.release(this.q8.ptr, this.q8.bytes, 'scratch');
      this.q8 = { ptr: this.alloc(bytes, 'scratch'), bytes };
    }
    // then, as the backend's prepScratch, the tiles' row prep past CHUNK
    if (f.prep && nTokens >= 4) this.ensureScratch(WASM_CHUNK * 4 + rowPrepBytes(w.cols));
  }

  /** rope's per-thread cos/sin scratch and its inverse-frequency table. */
  ropeTable(nRot: number): void {
    this.ensureScratch(nRot * 4);
    const bytes = (nRot / 2) * 8;
    if (bytes <= this.rope.cap) return;
    if (this.rope.cap > 0) this.release(this.rope.ptr, this.rope.cap, 'scratch');
    this.rope = { ptr: this.alloc(bytes, 'scratch'), cap: bytes };
  }

  private ensureScratch(bytes: number): void {
    if (bytes <= this.scratch.stride) return;
    const stride = scratchStride(bytes);
    const ptr = this.alloc(stride * this.threads, 'scratch');
    if (this.scratch.stride > 0) this.release(this.scratch.ptr, this.scratch.stride * this.threads, 'scratch');
    this.scratch = { ptr, stride };
  }

  /** The highest end of the heap so far. */
  peakTop(): number {
    return this.space.peakTop();
  }

  /** WebAssembly.Memory bytes at that peak (whole 64 KiB pages). */
  committed(): number {
    return committedBytes(this.peakTop());
  }
}
