// Memory a model will take, from its header alone: every allocation each backend makes for it —
// weights as uploaded (fused tensors split by rows, WebGPU's splits at the binding limit), the
// decoder's scratch (Decoder.scratchLengths), the KV cache at a context and cache type (the per-layer
// rings of layer-plan.ts, kvRowBytes), and what ops allocate lazily on the first passes. WASM is
// replayed on the backend's own allocator (backends/wasm/sizing.ts), so rounding, fragmentation and
// page growth are counted as they happen. Host-side extras: the tokenizer and the one tensor the
// loader holds in JS while uploading it.
import { kvRowBytes, type KVType } from '../backends/kv-layout.ts';
import { WasmHeapModel, type ModelWeight } from '../backends/wasm/sizing.ts';
import { activationBufferSize, gpuKVLayerBytes, weightBufferSizes } from '../backends/webgpu/buffers.ts';
import { UNIFORM_RING_BYTES } from '../backends/webgpu/recorder.ts';
import { getTraits } from '../quant/traits.ts';
import type { ArchSpec } from './arch.ts';
import { DEFAULT_MAX_BATCH, Decoder } from './decoder.ts';
import type { HParams } from './hparams.ts';
import { planModel } from './layer-plan.ts';
import type { ModelHeader } from './support.ts';
import { checkWeights } from './weights.ts';

/** One backend.uploadWeight call: a tensor, or a row range of a fused one. */
export interface Upload {
  name: string;
  type: number;
  cols: number;
  rows: number;
  bytes: number;
  /** its transformer block, or -1 (embeddings, head, final norm) */
  layer: number;
}

export interface MemoryOptions {
  nCtx: number;
  kvType: KVType;
  /** default DEFAULT_MAX_BATCH, capped at nCtx (as loadModel) */
  maxBatch?: number;
  /** WASM kernel threads (each has its own scratch); default 8 */
  threads?: number;
  /** WASM module's heapBase (default: the mirrored bound) */
  heapBase?: number;
  /** WebGPU: the binding size weights are split at (GPUCaps.bindingLimit); default 128 MiB */
  bindingLimit?: number;
}

export interface MemoryEstimate {
  backend: 'wasm' | 'webgpu';
  nCtx: number;
  kvType: KVType;
  /** weight bytes as the backend holds them */
  weightsBytes: number;
  /** K and V for every layer's ring */
  kvBytes: number;
  /** activations, 8-bit activation copy, per-thread scratch, rope table, f32 norm copies, rounding */
  scratchBytes: number;
  /** what the backend holds at its peak: WASM memory (whole pages), or the sum of GPU buffers */
  backendBytes: number;
  /** JS heap of the tokenizer and the parsed header (an estimate from the vocabulary, see below) */
  tokenizerBytes: number;
  /** the largest tensor, held in JS while it is uploaded */
  loadTransientBytes: number;
  /** backendBytes + tokenizerBytes + loadTransientBytes */
  totalBytes: number;
  /** weight bytes of each block, and of everything else (what layer streaming splits) */
  layerBytes: number[];
  fixedWeightBytes: number;
  /** WebGPU: the largest single buffer (against maxBufferSize / the binding limit) */
  largestBufferBytes: number;
  /** WebGPU: buffers that come and go (the uniform ring, one batch of logits read back), part of scratchBytes;
   *  backendBytes − transientBytes is what WebGPUBackend.memoryBytes() reports */
  transientBytes?: number;
  /** WASM: the highest end of the heap (WasmBackend.heapExtent().peakTop) once loaded, and at its peak */
  heapTopLoaded?: number;
  heapTop?: number;
}

/**
 * JS heap of the parsed header's vocabulary and the tokenizer built from it, per token and per BPE
 * merge: fitted to Node's heapUsed (after GC) before and after opening the header and building the
 * tokenizer — Llama-3.2 (128k tokens, 280k merges) 35.8 MB, Qwen3 (152k, 151k) 27.8 MB, Gemma 3
 * (262k, 515k) 61.7 MB, Phi-3 (32k SPM, no merges) 2.4 MB; these constants give 36.0, 28.8, 70.0
 * and 3.5 MB. A browser's engine differs; this is an estimate, not an allocation we control.
 */
export const TOKENIZER_BYTES_PER_TOKEN = 110;
export const TOKENIZER_BYTES_PER_MERGE = 80;

const DEFAULT_THREADS = 8;

/** The context a model gets when none is asked for (loadModel's default). */
export function defaultContext(h: Pick<HParams, 'nCtxTrain'>): number {
  return Math.min(h.nCtxTrain, 4096);
}
const DEFAULT_BINDING = 128 * 1024 * 1024;

/** The backend calls the loader (weights.ts loadWeights) makes, in its order. */
export function weightUploads(header: ModelHeader, h: HParams, arch: ArchSpec): Upload[] {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const tensors = checkWeights({ tensor: (n) => byName.get(n) as never }, h, arch);
  const qDim = h.nHead * h.headDim, kvDim = h.nHeadKV * h.headDim;
  const out: Upload[] = [];
  const add = (name: string, layer: number, parts?: number[], slices = false): void => {
    const t = tensors.get(name);
    if (!t) return;
    const tr = getTraits(t.type, name);
    const cols = t.shape[0];
    const rows = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const rowBytes = (cols / tr.blockSize) * tr.typeSize;
    if (slices) {
      for (const n of parts!) out.push({ name, type: t.type, cols: n, rows: 1, bytes: (n / tr.blockSize) * tr.typeSize, layer });
    } else {
      for (const r of parts ?? [rows]) out.push({ name, type: t.type, cols, rows: r, bytes: r * rowBytes, layer });
    }
  };
  add('token_embd.weight', -1);
  add('output_norm.weight', -1);
  add('output.weight', -1);
  for (let l = 0; l < h.nLayers; l++) {
    const b = (s: string) => `blk.${l}.${s}`;
    add(b('attn_norm.weight'), l);
    add(b('attn_qkv.weight'), l, [qDim, kvDim, kvDim]);
    add(b('attn_qkv.bias'), l, [qDim, kvDim, kvDim], true);
    for (const s of ['attn_q.weight', 'attn_k.weight', 'attn_v.weight', 'attn_q.bias', 'attn_k.bias', 'attn_v.bias',
      'attn_q_norm.weight', 'attn_k_norm.weight', 'attn_output.weight', 'post_attention_norm.weight',
      'post_ffw_norm.weight', 'ffn_norm.weight']) add(b(s), l);
    if (arch.fusedGateUp) {
      add(b('ffn_up.weight'), l, [h.ffDim, h.ffDim]);
    } else {
      add(b('ffn_gate.weight'), l);
      add(b('ffn_up.weight'), l);
    }
    add(b('ffn_down.weight'), l);
  }
  return out;
}

function common(header: ModelHeader, h: HParams, arch: ArchSpec, o: MemoryOptions) {
  const maxBatch = Math.min(o.maxBatch ?? DEFAULT_MAX_BATCH, o.nCtx);
  const uploads = weightUploads(header, h, arch);
  const plan = planModel(h, arch, {}, o.nCtx, maxBatch);
  const slots = plan.layers.map((p) => p.slots);
  const kvDim = h.nHeadKV * h.headDim;
  const count = (key: string): number => {
    const v = header.metadata.get(key);
    return Array.isArray(v) ? v.length : 0;
  };
  const tokenizerBytes = (count('tokenizer.ggml.tokens') || h.vocabSize) * TOKENIZER_BYTES_PER_TOKEN
    + count('tokenizer.ggml.merges') * TOKENIZER_BYTES_PER_MERGE;
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const largestTensor = Math.max(0, ...[...new Set(uploads.map((u) => u.name))].map((n) => {
    const t = byName.get(n)!;
    const tr = getTraits(t.type, n);
    return (t.shape.reduce((a, b) => a * b, 1) / tr.blockSize) * tr.typeSize;
  }));
  const layerBytes = new Array<number>(h.nLayers).fill(0);
  let fixed = 0;
  for (const u of uploads) if (u.layer >= 0) layerBytes[u.layer] += u.bytes; else fixed += u.bytes;
  return { maxBatch, uploads, plan, slots, kvDim, tokenizerBytes,
    loadTransientBytes: largestTensor, layerBytes, fixedWeightBytes: fixed };
}

/** The WASM backend: its allocations replayed in the order load, decoder and the first passes make them. */
export function estimateWasm(header: ModelHeader, h: HParams, arch: ArchSpec, o: MemoryOptions): MemoryEstimate {
  const c = common(header, h, arch, o);
  const heap = new WasmHeapModel({ threads: o.threads ?? DEFAULT_THREADS, heapBase: o.heapBase });
  const w = new Map<string, ModelWeight[]>();
  for (const u of c.uploads) w.set(u.name, [...(w.get(u.name) ?? []), heap.uploadWeight(u.type, u.cols, u.rows)]);
  for (const n of Object.values(Decoder.scratchLengths(h, arch, c.maxBatch))) heap.activation(n);
  heap.createKVCache(c.slots, o.nCtx, c.kvDim, o.kvType);
  const weights = heap.parts.weights;
  const heapTopLoaded = heap.peakTop();
  // The op order of Decoder.layers/head, for a full batch, a short tail (the integer kernels of
  // formats without four-token tiles take up to 3 tokens) and one decoded token.
  const one = (name: string, i = 0): ModelWeight | undefined => w.get(name)?.[i];
  const vec = (name: string, i = 0): void => { const x = one(name, i); if (x) heap.vector(x); };
  const mm = (name: string, n: number, i = 0): void => { const x = one(name, i); if (x) heap.matmul(x, n); };
  for (const n of [...new Set([c.maxBatch, Math.min(3, c.maxBatch), 1])]) {
    for (let l = 0; l < h.nLayers; l++) {
      const b = (s: string) => `blk.${l}.${s}`;
      const fusedQkv = w.has(b('attn_qkv.weight'));
      vec(b('attn_norm.weight'));
      for (let i = 0; i < 3; i++) mm(fusedQkv ? b('attn_qkv.weight') : b(['attn_q.weight', 'attn_k.weight', 'attn_v.weight'][i]), n, fusedQkv ? i : 0);
      for (let i = 0; i < 3; i++) {
        if (w.has(b('attn_qkv.bias'))) vec(b('attn_qkv.bias'), i); else vec(b(['attn_q.bias', 'attn_k.bias', 'attn_v.bias'][i]));
      }
      if (w.has(b('attn_q_norm.weight')) && w.has(b('attn_k_norm.weight'))) { vec(b('attn_q_norm.weight')); vec(b('attn_k_norm.weight')); }
      if (c.plan.layers[l].rope) heap.ropeTable(h.nRot);
      mm(b('attn_output.weight'), n);
      vec(b('post_attention_norm.weight'));
      vec(b('ffn_norm.weight'));
      if (arch.fusedGateUp) { mm(b('ffn_up.weight'), n, 0); mm(b('ffn_up.weight'), n, 1); } else { mm(b('ffn_gate.weight'), n); mm(b('ffn_up.weight'), n); }
      mm(b('ffn_down.weight'), n);
      vec(b('post_ffw_norm.weight'));
    }
    vec('output_norm.weight');
    mm(w.has('output.weight') ? 'output.weight' : 'token_embd.weight', n);
  }
  const backendBytes = heap.committed();
  const kvBytes = heap.parts.kv;
  return finish('wasm', o, c, { weightsBytes: weights, kvBytes, scratchBytes: backendBytes - weights - kvBytes, backendBytes, largestBufferBytes: 0, heapTopLoaded, heapTop: heap.peakTop() });
}

/** The WebGPU backend: one buffer per weight chunk, activation and KV layer (K and V). */
export function estimateWebGPU(header: ModelHeader, h: HParams, arch: ArchSpec, o: MemoryOptions): MemoryEstimate {
  const c = common(header, h, arch, o);
  const binding = o.bindingLimit ?? DEFAULT_BINDING;
  const weightBufs = c.uploads.flatMap((u) => weightBufferSizes(u.name, u.bytes / u.rows, u.rows, binding));
  const actBufs = Object.values(Decoder.scratchLengths(h, arch, c.maxBatch)).map(activationBufferSize);
  const kvBufs = c.slots.flatMap((n) => [gpuKVLayerBytes(o.kvType, c.kvDim, n), gpuKVLayerBytes(o.kvType, c.kvDim, n)]);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  // per-dispatch temporaries (token ids, rope tables) are a few KiB; a perplexity pass maps a whole batch of logits back
  const transientBytes = UNIFORM_RING_BYTES + c.maxBatch * h.vocabSize * 4;
  const weightsBytes = sum(weightBufs), kvBytes = sum(kvBufs), scratchBytes = sum(actBufs) + transientBytes;
  return finish('webgpu', o, c, { weightsBytes, kvBytes, scratchBytes, backendBytes: weightsBytes + kvBytes + scratchBytes,
    largestBufferBytes: Math.max(...weightBufs, ...actBufs, ...kvBufs), transientBytes });
}

function finish(backend: MemoryEstimate['backend'], o: MemoryOptions, c: ReturnType<typeof common>,
  b: Pick<MemoryEstimate, 'weightsBytes' | 'kvBytes' | 'scratchBytes' | 'backendBytes' | 'largestBufferBytes' | 'heapTopLoaded' | 'heapTop' | 'transientBytes'>): MemoryEstimate {
  return {
    backend, nCtx: o.nCtx, kvType: o.kvType, ...b,
    tokenizerBytes: c.tokenizerBytes, loadTransientBytes: c.loadTransientBytes,
    totalBytes: b.backendBytes + c.tokenizerBytes + c.loadTransientBytes,
    layerBytes: c.layerBytes, fixedWeightBytes: c.fixedWeightBytes,
  };
}
