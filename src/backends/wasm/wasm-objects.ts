// The WASM backend's handles: weights and activations (pointers into its linear memory) and the
// KV cache layout.
import type { Activation, KVCacheSpec, Weight, WeightSlot } from '../backend.ts';
import type { KVType } from '../kv-layout.ts';
import type { GGMLType } from '../../quant/types.ts';

export type Fn = (...args: number[]) => number;

export class WasmWeight implements Weight {
  /** f32 copy of a 1-row weight used as a vector (norm, bias) when stored in another format */
  vecPtr = -1;
  constructor(readonly name: string, readonly type: GGMLType, readonly cols: number, readonly rows: number,
    readonly ptr: number, readonly rowBytes: number, readonly blocksPerRow: number,
    readonly matmul: number, readonly deq: Fn,
    /** integer kernel (matmulq_<id>) and its activation block; -1 when the format has none */
    readonly matmulq: number, readonly qb: number,
    /** most tokens a batch may have for the integer kernel to beat the f32 one */
    readonly int8MaxTokens: number,
    /** per-thread scratch past CHUNK that its four-token tiles' row prep needs (0: none) */
    readonly prepBytes: number,
    /** the streaming slot whose bytes this weight views (they change), if any */
    readonly slot?: WasmWeightSlot) {}
}

/** A heap region streamed layers take turns in. */
export class WasmWeightSlot implements WeightSlot {
  constructor(readonly bytes: number, readonly ptr: number) {}
}

export class WasmActivation implements Activation {
  freed = false;
  constructor(readonly length: number, readonly ptr: number) {}
}

export interface KVCache {
  readonly spec: KVCacheSpec;
  readonly type: KVType;
  /** the type's index in KV_TYPES: the kernels' `kt` argument */
  readonly typeCode: number;
  /** bytes of one position's row (kvRowBytes) */
  readonly rowBytes: number;
  readonly k: number;
  readonly v: number;
  /** bytes of each of k and v */
  readonly bytes: number;
  /** ring capacity (positions) of each layer */
  readonly slots: readonly number[];
  /** byte offset of each layer's rows within k and v */
  readonly layerOff: readonly number[];
}
