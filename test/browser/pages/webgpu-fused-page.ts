// Page side of webgpu-fused.test.ts. fusedVsUnfused: a real model's logits with the WebGPU
// backend's fused kernels on and off. runFusedQKV: the fused q/k/v matmul (matmulQKV) per block
// format of FORMAT_TRAITS against f64 math over the dequantized weights, for triples of one format
// and of several (as Q4_K_M files store them), and weights split under a forced binding limit,
// where it declines and qkvMatmul runs the three matmuls.
import { qkvMatmul, type Backend, type Weight } from '../../../src/backends/backend.ts';
import { GPUWeight } from '../../../src/backends/webgpu/buffers.ts';
import { createWebGPUBackend, type WebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModel } from '../../../src/engine/load.ts';
import { urlSource } from '../../../src/formats/url-source.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import type { FormatTraits } from '../../../src/quant/types.ts';
import { matmulRef, randn, relErr, rng } from './reference.ts';
import { quantized } from './webgpu-formats-page.ts';

export interface FusedVsUnfused {
  /** max |fused − unfused| over every logit of the prompt rows and the decoded rows */
  maxDiff: number;
  /** max |unfused logit| (the scale maxDiff is read against) */
  maxAbs: number;
  /** rows whose argmax differs */
  argmaxDiffers: number;
  rows: number;
  layers: number;
  dispatches: { fused: number; unfused: number };
}

/**
 * The same token ids through the model with the backend's fused kernels (fuse: true) and without:
 * logits of a batched prefill of `prompt` tokens (every row) and of `decode` single-token steps
 * after it. The ids are fixed, not sampled, so both runs see the same inputs.
 */
export async function fusedVsUnfused(url: string, prompt: number, decode: number, kvType: 'f32' | 'f16' | 'q8_0'): Promise<FusedVsUnfused> {
  const run = async (fuse: boolean) => {
    const backend = await createWebGPUBackend({ fuse });
    const m = await loadModel(await urlSource(url), backend, { nCtx: 64, kvType });
    try {
      const V = m.h.vocabSize;
      const id = (p: number) => 1 + ((p * 37) % (V - 1));
      const rows = [await m.decoder.forward(Int32Array.from({ length: prompt }, (_, p) => id(p)), 0, true)];
      for (let p = prompt; p < prompt + decode; p++) rows.push(await m.decoder.forward(Int32Array.of(id(p)), p, false));
      return { logits: rows, V, layers: m.h.nLayers, dispatches: backend.stats().dispatches };
    } finally {
      await m.dispose();
    }
  };
  const f = await run(true), u = await run(false);
  const fl = concat(f.logits), ul = concat(u.logits);
  let maxDiff = 0, maxAbs = 0, argmaxDiffers = 0;
  for (let i = 0; i < ul.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(fl[i] - ul[i]));
    maxAbs = Math.max(maxAbs, Math.abs(ul[i]));
  }
  const rows = ul.length / u.V;
  for (let r = 0; r < rows; r++) {
    if (argmax(fl.subarray(r * u.V, (r + 1) * u.V)) !== argmax(ul.subarray(r * u.V, (r + 1) * u.V))) argmaxDiffers++;
  }
  return { maxDiff, maxAbs, argmaxDiffers, rows, layers: u.layers, dispatches: { fused: f.dispatches, unfused: u.dispatches } };
}

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of xs) { out.set(x, o); o += x.length; }
  return out;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export interface FusedQKVResult {
  /** the formats of wq, wk, wv */
  formats: string;
  rows: [number, number, number];
  cols: number;
  /** worst of the three outputs' errors, by `${threads per row}-${tokens}` */
  err: Record<string, number>;
  /** every matmulQKV call fused (returned true) */
  fused: boolean;
  /** f16-product errors (decode, batch), when the adapter has shader-f16 */
  f16: { vec: number; batch: number } | null;
}

type R = ReturnType<typeof rng>;
interface Triple { ts: FormatTraits[]; rows: [number, number, number]; cols: number; w: { bytes: Uint8Array; deq: Float32Array }[] }

function triple(ts: FormatTraits[], r: R): Triple {
  const unit = Math.max(...ts.map((t) => Math.max(t.blockSize, 4) * (t.blockSize === 1 ? 8 : 1)));
  const cols = unit * (1 + r.int(3));
  const rows: [number, number, number] = [16 + r.int(40), 8 + r.int(20), 8 + r.int(20)];
  return { ts, rows, cols, w: ts.map((t, i) => quantized(t, r, rows[i], cols)) };
}

const upload = (b: Backend, q: Triple) => q.ts.map((t, i) => b.uploadWeight(`${t.id}-${'qkv'[i]}`, t.type, q.cols, q.rows[i], q.w[i].bytes));

/** matmulQKV straight (no fallback), so a false return shows as fused = false; `viaHelper`: qkvMatmul instead. */
async function runQKV(b: Backend, ws: Weight[], x: Float32Array, n: number, viaHelper = false): Promise<{ ys: Float32Array[]; fused: boolean }> {
  const xa = b.alloc(x.length);
  const outs = ws.map((w) => b.alloc(n * w.rows));
  b.write(xa, x);
  let fused = false;
  if (viaHelper) qkvMatmul(b, ws[0], ws[1], ws[2], xa, outs[0], outs[1], outs[2], n);
  else fused = b.matmulQKV?.(ws[0], ws[1], ws[2], xa, outs[0], outs[1], outs[2], n) ?? false;
  const ys = await Promise.all(outs.map((o, i) => b.read(o, 0, n * ws[i].rows)));
  b.free(xa);
  for (const o of outs) b.free(o);
  return { ys, fused };
}

const worst = (q: Triple, ys: Float32Array[], x: Float32Array, n: number) =>
  Math.max(...ys.map((y, i) => relErr(y, matmulRef(q.w[i].deq, q.rows[i], q.cols, x, n))));

async function oneTriple(gpu: WebGPUBackend, coop: WebGPUBackend, half: WebGPUBackend | null, q: Triple, r: R): Promise<FusedQKVResult> {
  const x = { 1: randn(r, q.cols), 11: randn(r, 11 * q.cols) };
  const err: Record<string, number> = {};
  let fused = true;
  for (const [b, tpr] of [[gpu, 1], [coop, 16]] as const) {
    const ws = upload(b, q);
    for (const n of [1, 11] as const) {
      const res = await runQKV(b, ws, x[n], n);
      fused &&= res.fused;
      err[`${tpr}-${n}`] = worst(q, res.ys, x[n], n);
    }
  }
  let f16: FusedQKVResult['f16'] = null;
  if (half) {
    const ws = upload(half, q);
    f16 = { vec: worst(q, (await runQKV(half, ws, x[1], 1)).ys, x[1], 1), batch: worst(q, (await runQKV(half, ws, x[11], 11)).ys, x[11], 11) };
  }
  return { formats: q.ts.map((t) => t.id).join('/'), rows: q.rows, cols: q.cols, err, fused, f16 };
}

const traits = (id: string) => [...FORMAT_TRAITS.values()].find((t) => t.id === id)!;
/** wq, wk, wv of several formats: Q4_K_M (wv Q6_K in some layers), Q3_K_M (wv Q5_K), and three block sizes */
const MIXED = [['q4_k', 'q4_k', 'q6_k'], ['q3_k', 'q3_k', 'q5_k'], ['q8_0', 'f16', 'q4_0']];

export async function runFusedQKV(seed: number): Promise<{ shaderF16: boolean; results: FusedQKVResult[]; mixed: FusedQKVResult[];
  split: { fused: boolean; helperErr: number; chunks: number } }> {
  const r = rng(seed);
  const gpu = await createWebGPUBackend({ threadsPerRow: 1, f16: false });
  const coop = await createWebGPUBackend({ threadsPerRow: 16, f16: false });
  const half = gpu.caps.shaderF16 ? await createWebGPUBackend({ f16: true }) : null;
  try {
    const results: FusedQKVResult[] = [];
    for (const t of FORMAT_TRAITS.values()) results.push(await oneTriple(gpu, coop, half, triple([t, t, t], r), r));
    const mixed: FusedQKVResult[] = [];
    for (const ids of MIXED) mixed.push(await oneTriple(gpu, coop, half, triple(ids.map(traits), r), r));
    // wq split into several buffers: matmulQKV declines, qkvMatmul runs the three matmuls
    const q = triple([traits('q8_0'), traits('q8_0'), traits('q8_0')], r);
    const forced = await createWebGPUBackend({ threadsPerRow: 1, f16: false, forceMaxBindingBytes: Math.ceil((q.w[0].bytes.length / q.rows[0]) * 4 / 4) * 4 });
    const ws = upload(forced, q);
    const x = randn(r, 3 * q.cols);
    const direct = await runQKV(forced, ws, x, 3);
    const helped = await runQKV(forced, ws, x, 3, true);
    const split = { fused: direct.fused, helperErr: worst(q, helped.ys, x, 3), chunks: (ws[0] as GPUWeight).chunks.length };
    forced.dispose();
    return { shaderF16: gpu.caps.shaderF16, results, mixed, split };
  } finally {
    gpu.dispose();
    coop.dispose();
    half?.dispose();
  }
}
