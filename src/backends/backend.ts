// The op set a model's forward pass is written in. Each device (wasm, webgpu) implements it once;
// models never touch device memory directly. Activations are f32, row-major [nTokens][width].
import type { GGMLType } from '../quant/types.ts';
import type { KVType } from './kv-layout.ts';

/** A weight tensor resident on the device, still in its GGUF block format. rows = ne1, cols = ne0. */
export interface Weight {
  readonly name: string;
  readonly type: GGMLType;
  readonly cols: number;
  readonly rows: number;
}

/**
 * A fixed region of device memory that streamed layers' weights take turns in (layer streaming:
 * src/models/layer-stream.ts). Its weights are views at offsets; their values are whatever bytes
 * were written there last, so the caller records which layer a slot holds.
 */
export interface WeightSlot {
  readonly bytes: number;
}

/** An f32 activation buffer on the device holding `length` floats. */
export interface Activation {
  readonly length: number;
}

export interface RopeParams {
  /** number of dimensions rotated per head (rope.dimension_count) */
  readonly nRot: number;
  readonly freqBase: number;
  /** NEOX (rotate-half, qwen2) when true; adjacent pairs (llama) when false */
  readonly neox: boolean;
  /** optional per-frequency divisors (llama3 rope_freqs, Phi-3 longrope factors), length nRot/2 */
  readonly freqFactors?: Float32Array;
  /** multiplies cos and sin (longrope's attention factor); default 1 */
  readonly attnFactor?: number;
}

/** One layer's attention: head layout, score scale, and what limits which keys a query sees. */
export interface AttentionParams {
  readonly nHead: number;
  readonly nHeadKV: number;
  readonly headDim: number;
  /** multiplies q·k before the softmax (1/√headDim for most families) */
  readonly scale: number;
  /** sliding window: a query at position p sees keys p − window + 1 .. p; 0 = all earlier keys */
  readonly window?: number;
  /** attention logit soft-cap: s → cap · tanh(s / cap), after the scale; 0 = none */
  readonly softcap?: number;
}

/** How one layer's cached keys turn when their positions move (context shift). */
export interface KVShiftParams {
  readonly nHeadKV: number;
  readonly headDim: number;
  /** the layer's rope, without its attention factor; none for NoPE layers (keys only move) */
  readonly rope?: RopeParams;
  /** an activation of at least one row (kvDim floats) the op may overwrite: keys stored in f16
   *  turn through it in f32, so the shift allocates nothing */
  readonly scratch: Activation;
}

/** The gated activation of a feed-forward block: out = act(gate) · up. */
export type GluKind = 'silu' | 'gelu_tanh';

export interface KVCacheSpec {
  readonly nLayers: number;
  readonly nCtx: number;
  /** nHeadKV * headDim */
  readonly kvDim: number;
  /** element type of the cached rows (kv-layout.ts states their bytes) */
  readonly type: KVType;
  /**
   * per-layer ring capacity in positions (position p lives in slot p % slots); a sliding-window
   * layer needs only window + batch − 1 of them. Default: nCtx for every layer.
   */
  readonly slots?: readonly number[];
}

export interface Backend {
  readonly name: 'wasm' | 'webgpu';
  /** worker threads used (1 = single-threaded) */
  readonly threads: number;

  /** Copies a tensor's raw GGUF bytes (rows*cols values in `type` blocks) to the device. */
  uploadWeight(name: string, type: GGMLType, cols: number, rows: number, data: Uint8Array): Weight;
  /**
   * Optional: a weight whose bytes the caller writes into `bytes()` (a view of device memory) before
   * the first use, so a file can be read straight in with no JS buffer between (host memory stays
   * at the model's, not model + the largest tensor + what the allocator keeps after freeing it).
   */
  allocWeight?(name: string, type: GGMLType, cols: number, rows: number): { weight: Weight; bytes(): Uint8Array };
  alloc(length: number): Activation;

  /** Optional (layer streaming): reserves a weight slot of `bytes`. */
  allocWeightSlot?(bytes: number): WeightSlot;
  /** A weight over slot bytes [offset, offset + rows × row bytes); nothing is copied. */
  slotWeight?(slot: WeightSlot, offset: number, name: string, type: GGMLType, cols: number, rows: number): Weight;
  /** Copies `data` into the slot at `offset`; ops recorded before see the old bytes. */
  writeSlot?(slot: WeightSlot, offset: number, data: Uint8Array): void;
  /**
   * Where a reader may put bytes straight into the slot, if anywhere. The view may be detached by
   * the memory growing meanwhile (byteLength 0 after the read): the reader then uses writeSlot.
   */
  slotView?(slot: WeightSlot): Uint8Array | undefined;
  free(a: Activation): void;
  createKVCache(spec: KVCacheSpec): void;

  write(dst: Activation, src: Float32Array, dstOffset?: number): void;
  read(src: Activation, offset: number, length: number): Promise<Float32Array>;

  /** out[t] = row ids[t] of the (quantized) table, dequantized */
  embed(table: Weight, ids: Int32Array, out: Activation): void;
  /** out[t] = x[t] / rms(x[t]) * w   (w.cols = width) */
  rmsnorm(x: Activation, w: Weight, out: Activation, nTokens: number, eps: number): void;
  /** out[t][r] = sum_c W[r][c] * x[t][c]; reads weights in their block format */
  matmul(w: Weight, x: Activation, out: Activation, nTokens: number): void;
  /** x[t] += bias for every token (bias.cols = width) */
  addBias(x: Activation, bias: Weight, nTokens: number): void;
  /** in-place rotary embedding; token t has position pos0 + t */
  rope(x: Activation, nTokens: number, nHeads: number, headDim: number, pos0: number, p: RopeParams): void;
  /** store k, v ([nTokens][kvDim]) at positions pos0.. of `layer` */
  storeKV(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number): void;
  /**
   * Optional fusion: storeKV of k turned by rope (heads of headDim, token t at pos0 + t) in one pass;
   * k itself may be left unturned. With `bias`, k + bias.k (before the rope) and v + bias.v are
   * stored. False, having recorded nothing, where it cannot; callers go through ropeStoreKV, which
   * then adds the biases, runs rope and storeKV.
   */
  storeKVRoped?(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, headDim: number, p: RopeParams,
    bias?: KVBias): boolean;
  /** causal attention of q ([nTokens][nHead*headDim], positions pos0..) over the cached keys up to
   *  pos0 + t (within the window, if any) */
  attention(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, p: AttentionParams): void;
  /**
   * Optional fusion: attention of q turned by rope (p's heads, token t at pos0 + t) as it is read;
   * q itself may be left unturned. With `bias`, q + bias (before the rope). False, having recorded
   * nothing, where it cannot; callers go through ropeAttention, which then adds the bias, runs rope
   * and attention.
   */
  attentionRoped?(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, p: AttentionParams,
    rope: RopeParams, bias?: Weight): boolean;
  /**
   * Optional fusion: q[t], k[t], v[t] = wq · x[t], wk · x[t], wv · x[t] in one pass (the weights
   * may be of different formats; their cols are equal). False, having recorded nothing, for weights
   * it cannot fuse; callers go through qkvMatmul, which then runs the three matmuls.
   */
  matmulQKV?(wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number,
    norm?: InputNorm): boolean;
  /**
   * Optional fusion: out[t] += w · x[t] (a residual add in the matmul's own store). False, having
   * recorded nothing, where it cannot; callers go through matmulAdd, which then runs matmul and add.
   */
  matmulAdd?(w: Weight, x: Activation, out: Activation, nTokens: number): boolean;
  /** out = act(gate) * up, elementwise over n */
  glu(gate: Activation, up: Activation, out: Activation, n: number, act: GluKind): void;
  /**
   * Optional fusion: out[t] = act(gate · x[t]) * (up · x[t]) in one pass over both weights. Returns
   * false, having recorded nothing, for a pair it cannot fuse (e.g. two block formats); callers
   * go through gatedMatmul, which then runs the two matmuls and the glu.
   * matmulQKV and matmulGlu with `norm`: x is the un-normed input, each token taken through
   * rmsnorm(x, norm.weight, norm.eps) on the fly (x itself unchanged); false, having recorded
   * nothing, where the backend cannot (callers then run the rmsnorm into norm.out first).
   */
  matmulGlu?(gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, act: GluKind, norm?: InputNorm): boolean;
  /** x *= factor, elementwise over n */
  scale(x: Activation, n: number, factor: number): void;
  /** x = cap · tanh(x / cap), elementwise over n (final logit soft-capping) */
  softcap(x: Activation, n: number, cap: number): void;
  /** dst += src, elementwise over n */
  add(dst: Activation, src: Activation, n: number): void;
  /** dst[dstOffset..+n] = src[srcOffset..+n] (e.g. the last token's row before the LM head) */
  copy(src: Activation, srcOffset: number, dst: Activation, dstOffset: number, n: number): void;

  /**
   * Optional context shift of one layer's cache: forgets positions [keep, keep + discard) and moves
   * [keep + discard, end) to [keep, end − discard), each key rotated back by `discard` positions
   * (rotations compose: R(p − d) = R(−d)·R(p)); a ring layer's slots move with their positions.
   * Only valid when the ring (if any) still holds every key later windows will read.
   */
  shiftKV?(layer: number, keep: number, discard: number, end: number, p: KVShiftParams): void;

  /** Optional: resolves once the device has finished the work issued so far (WebGPU queues it). */
  sync?(): Promise<void>;

  /**
   * Optional: the k largest of the first n values of `logits`, largest first (ties: lower index
   * first), computed on the device so a decode step reads back k pairs instead of the vocabulary.
   */
  topK?(logits: Activation, k: number, n?: number): Promise<{ ids: ArrayLike<number>; values: ArrayLike<number> }>;

  dispose(): void;
}

/** The biases of k and v (Qwen2's), added where they enter the KV store. */
export interface KVBias {
  k: Weight;
  v: Weight;
}

/** The biases after the q/k/v matmuls (Qwen2's), any of them absent. */
export interface QKVBias {
  q?: Weight;
  k?: Weight;
  v?: Weight;
}

/** An RMSNorm in front of a fused matmul op: its weight and eps, and where the normed input goes
 *  when the backend runs it as a separate rmsnorm. */
export interface InputNorm {
  weight: Weight;
  eps: number;
  out: Activation;
}

/**
 * out = act(gate · x) * (up · x) for nTokens tokens: the backend's fused op where it has one for
 * this pair, else two matmuls (up's through `upScratch`) and a glu. gate and up are rows × cols.
 * With `norm`, x goes through that RMSNorm first (see InputNorm).
 */
export function gatedMatmul(b: Backend, gate: Weight, up: Weight, x: Activation, out: Activation, upScratch: Activation,
  nTokens: number, act: GluKind, norm?: InputNorm): void {
  if (norm) {
    if (b.matmulGlu?.(gate, up, x, out, nTokens, act, norm)) return;
    b.rmsnorm(x, norm.weight, norm.out, nTokens, norm.eps);
    x = norm.out;
  }
  if (b.matmulGlu?.(gate, up, x, out, nTokens, act)) return;
  b.matmul(gate, x, out, nTokens);
  b.matmul(up, x, upScratch, nTokens);
  b.glu(out, upScratch, out, nTokens * gate.rows, act);
}

/** q, k, v = wq · x, wk · x, wv · x for nTokens tokens: the backend's fused op where it has one, else three
 *  matmuls. With `norm`, x goes through that RMSNorm first (see InputNorm). */
export function qkvMatmul(b: Backend, wq: Weight, wk: Weight, wv: Weight, x: Activation,
  q: Activation, k: Activation, v: Activation, nTokens: number, norm?: InputNorm): void {
  if (norm) {
    if (b.matmulQKV?.(wq, wk, wv, x, q, k, v, nTokens, norm)) return;
    b.rmsnorm(x, norm.weight, norm.out, nTokens, norm.eps);
    x = norm.out;
  }
  if (b.matmulQKV?.(wq, wk, wv, x, q, k, v, nTokens)) return;
  b.matmul(wq, x, q, nTokens);
  b.matmul(wk, x, k, nTokens);
  b.matmul(wv, x, v, nTokens);
}

/** dst += w · x for nTokens tokens: the backend's fused op where it has one, else a matmul through `scratch` and an add. */
export function matmulAdd(b: Backend, w: Weight, x: Activation, dst: Activation, scratch: Activation, nTokens: number): void {
  if (b.matmulAdd?.(w, x, dst, nTokens)) return;
  b.matmul(w, x, scratch, nTokens);
  b.add(dst, scratch, nTokens * w.rows);
}

/**
 * storeKV of k (+ bias.k) turned by `rope` (when the layer has one; nHeadKV heads of headDim) and of
 * v (+ bias.v): the backend's fused op where it has one, else addBias, rope in place and storeKV.
 * k's and v's contents afterwards are any of these.
 */
export function ropeStoreKV(b: Backend, layer: number, k: Activation, v: Activation, pos0: number, nTokens: number,
  nHeadKV: number, headDim: number, rope: RopeParams | null | undefined, bias?: QKVBias): void {
  if (rope && bias?.k && bias.v && b.storeKVRoped?.(layer, k, v, pos0, nTokens, headDim, rope, { k: bias.k, v: bias.v })) return;
  if (bias?.k) b.addBias(k, bias.k, nTokens);
  if (bias?.v) b.addBias(v, bias.v, nTokens);
  if (rope) {
    if (b.storeKVRoped?.(layer, k, v, pos0, nTokens, headDim, rope)) return;
    b.rope(k, nTokens, nHeadKV, headDim, pos0, rope);
  }
  b.storeKV(layer, k, v, pos0, nTokens);
}

/**
 * attention of q (+ bias) turned by `rope` (when the layer has one): the backend's fused op where it
 * has one, else addBias, rope in place and attention. q's contents afterwards are any of these.
 */
export function ropeAttention(b: Backend, layer: number, q: Activation, out: Activation, pos0: number, nTokens: number,
  p: AttentionParams, rope: RopeParams | null | undefined, bias?: Weight): void {
  if (rope && bias && b.attentionRoped?.(layer, q, out, pos0, nTokens, p, rope, bias)) return;
  if (bias) b.addBias(q, bias, nTokens);
  if (rope) {
    if (b.attentionRoped?.(layer, q, out, pos0, nTokens, p, rope)) return;
    b.rope(q, nTokens, p.nHead, p.headDim, pos0, rope);
  }
  b.attention(layer, q, out, pos0, nTokens, p);
}
