// Page side of webgpu-formats.test.ts: every weight-reading op × every block format of
// FORMAT_TRAITS against the scalar reference dequantization + naive f64 math, and the forced small
// binding limit (weights split across buffers) against the unforced run. runFusedGlu: the fused
// gate/up matmul + GLU (matmulGlu) likewise, and a pair of two formats through gatedMatmul's fallback.
import { gatedMatmul, type Backend, type GluKind, type Weight } from '../../../src/backends/backend.ts';
import { createWebGPUBackend, type WebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { GPUWeight } from '../../../src/backends/webgpu/buffers.ts';
import { dequantizeTensor, FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import type { FormatTraits } from '../../../src/quant/types.ts';
import { geluTanhRef, matmulRef, randn, relErr, rmsnormRef, rng, siluRef } from './reference.ts';

// f32 path: both sides use the same dequantized values, so the only difference is f32 vs f64
// accumulation order: ‖gpu − ref‖₂ / ‖ref‖₂ ≤ 1e-5 (observed ~1e-7).
export const BOUND = 1e-5;
// f16 products (11-bit mantissa, summed per 4 in f16): ‖gpu − ref‖₂ / ‖ref‖₂ ≤ 2e-3.
export const F16_BOUND = 2e-3;

export interface FormatResult {
  format: string;
  rows: number;
  cols: number;
  matvec: number;
  matmul: number;
  /** the same products with several threads per row, by `${threads per row}-${wg | sg}`: the
   *  workgroup-memory reduction (wg) and, when the adapter has subgroups, the subgroup one (sg) */
  coop: Record<string, { matvec: number; matmul: number }>;
  /** ‖sg − wg‖ / ‖wg‖ at 16 threads per row (decode and batch), when the adapter has subgroups */
  sgVsWg: { matvec: number; matmul: number } | null;
  embed: number;
  /** rmsnorm on the default reduction (subgroups where the adapter has them), and forced onto workgroup memory */
  rmsnorm: number;
  rmsnormWg: number;
  addBias: number;
  /** chunks of the weight under the forced binding limit */
  forcedChunks: number;
  /** forced-split outputs equal the unforced ones bit for bit */
  splitIdentical: boolean;
  /** f16-product matmul errors, when the adapter has shader-f16 */
  f16: { matvec: number; matmul: number } | null;
}

type R = ReturnType<typeof rng>;

export function quantized(t: FormatTraits, r: R, rows: number, cols: number, mean = 0): { bytes: Uint8Array; deq: Float32Array } {
  const values = randn(r, rows * cols).map((v) => v + mean);
  const nBlocks = (rows * cols) / t.blockSize;
  const bytes = new Uint8Array(nBlocks * t.typeSize);
  t.quantize!(values, 0, nBlocks, bytes, 0);
  return { bytes, deq: dequantizeTensor(t.type, bytes, rows * cols, 'test') };
}

async function run(b: Backend, w: Weight, x: Float32Array, n: number): Promise<Float32Array> {
  const xa = b.alloc(x.length);
  const out = b.alloc(n * w.rows);
  b.write(xa, x);
  b.matmul(w, xa, out, n);
  const y = await b.read(out, 0, n * w.rows);
  b.free(xa);
  b.free(out);
  return y;
}

async function embedRows(b: Backend, w: Weight, ids: Int32Array): Promise<Float32Array> {
  const out = b.alloc(ids.length * w.cols);
  b.embed(w, ids, out);
  const y = await b.read(out, 0, ids.length * w.cols);
  b.free(out);
  return y;
}

async function normAndBias(b: Backend, t: FormatTraits, r: R, cols: number): Promise<{ rmsnorm: number; addBias: number }> {
  const g = quantized(t, r, 1, cols, 1);
  const w = b.uploadWeight('norm', t.type, cols, 1, g.bytes);
  const n = 3;
  const x = randn(r, n * cols, 2);
  const xa = b.alloc(n * cols);
  const out = b.alloc(n * cols);
  b.write(xa, x);
  b.rmsnorm(xa, w, out, n, 1e-5);
  const normed = await b.read(out, 0, n * cols);
  b.addBias(xa, w, n);
  const biased = await b.read(xa, 0, n * cols);
  const biasRef = x.map((v, i) => v + g.deq[i % cols]);
  return { rmsnorm: relErr(normed, rmsnormRef(x, g.deq, n, 1e-5)), addBias: relErr(biased, biasRef) };
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** Backends of the cooperative layouts by `${threads per row}-${wg | sg}`: 16 lanes per row on
 *  both reductions, and with subgroups also rows narrower than (2), as wide as (4) and wider than
 *  (16) SwiftShader's subgroups of 4. */
type Coops = Map<string, WebGPUBackend>;

async function coopBackends(subgroups: boolean): Promise<Coops> {
  const cfg: [number, boolean][] = [[16, false], ...(subgroups ? [[16, true], [4, true], [2, true]] as [number, boolean][] : [])];
  const m: Coops = new Map();
  for (const [tpr, sg] of cfg) m.set(`${tpr}-${sg ? 'sg' : 'wg'}`, await createWebGPUBackend({ threadsPerRow: tpr, f16: false, subgroups: sg }));
  return m;
}

async function oneFormat(gpu: WebGPUBackend, coops: Coops, half: WebGPUBackend | null, t: FormatTraits, seed: number, forcedRows: number): Promise<FormatResult> {
  const r = rng(seed + t.type);
  const unit = Math.max(t.blockSize, 4) * (t.blockSize === 1 ? 8 : 1);
  const cols = unit * (1 + r.int(3));
  const rows = 13 + r.int(40);
  const { bytes, deq } = quantized(t, r, rows, cols);
  const w = gpu.uploadWeight(t.id, t.type, cols, rows, bytes);
  const x1 = randn(r, cols);
  const x11 = randn(r, 11 * cols);
  const ids = Int32Array.from([rows - 1, 0, r.int(rows), r.int(rows), r.int(rows)]);
  const y1 = await run(gpu, w, x1, 1);
  const y11 = await run(gpu, w, x11, 11);
  const emb = await embedRows(gpu, w, ids);
  const coop: FormatResult['coop'] = {};
  const outs = new Map<string, Float32Array[]>();
  for (const [key, b] of coops) {
    const cw = b.uploadWeight(t.id, t.type, cols, rows, bytes);
    const [c1, c11] = [await run(b, cw, x1, 1), await run(b, cw, x11, 11)];
    outs.set(key, [c1, c11]);
    coop[key] = { matvec: relErr(c1, matmulRef(deq, rows, cols, x1, 1)), matmul: relErr(c11, matmulRef(deq, rows, cols, x11, 11)) };
  }
  const [sg, wg] = [outs.get('16-sg'), outs.get('16-wg')!];
  const sgVsWg = sg ? { matvec: relErr(sg[0], wg[0]), matmul: relErr(sg[1], wg[1]) } : null;
  const hw = half?.uploadWeight(t.id, t.type, cols, rows, bytes);
  const f16 = half && hw ? {
    matvec: relErr(await run(half, hw, x1, 1), matmulRef(deq, rows, cols, x1, 1)),
    matmul: relErr(await run(half, hw, x11, 11), matmulRef(deq, rows, cols, x11, 11)),
  } : null;
  const embRef = new Float32Array(ids.length * cols);
  ids.forEach((id, i) => embRef.set(deq.subarray(id * cols, (id + 1) * cols), i * cols));

  // the same weight split into chunks of a few rows
  const rowBytes = (cols / t.blockSize) * t.typeSize;
  const forced = await createWebGPUBackend({ threadsPerRow: 1, f16: false, forceMaxBindingBytes: Math.ceil((rowBytes * forcedRows) / 4) * 4 });
  const fw = forced.uploadWeight(t.id, t.type, cols, rows, bytes) as GPUWeight;
  const splitIdentical = same(await run(forced, fw, x1, 1), y1) && same(await run(forced, fw, x11, 11), y11) &&
    same(await embedRows(forced, fw, ids), emb);
  forced.dispose();

  return {
    format: t.id, rows, cols,
    matvec: relErr(y1, matmulRef(deq, rows, cols, x1, 1)),
    matmul: relErr(y11, matmulRef(deq, rows, cols, x11, 11)),
    coop,
    sgVsWg,
    embed: relErr(emb, embRef),
    ...(await normAndBias(gpu, t, r, cols)),
    rmsnormWg: (await normAndBias(coops.get('16-wg')!, t, r, cols)).rmsnorm,
    forcedChunks: fw.chunks.length,
    splitIdentical,
    f16,
  };
}

export async function runFormats(seed: number): Promise<{ adapter: string; shaderF16: boolean; subgroups: boolean; results: FormatResult[] }> {
  const gpu = await createWebGPUBackend({ threadsPerRow: 1, f16: false });
  const coops = await coopBackends(gpu.subgroups);
  const half = gpu.caps.shaderF16 ? await createWebGPUBackend({ f16: true }) : null;
  try {
    const results: FormatResult[] = [];
    for (const t of FORMAT_TRAITS.values()) results.push(await oneFormat(gpu, coops, half, t, seed, 4));
    return { adapter: gpu.caps.adapter, shaderF16: gpu.caps.shaderF16, subgroups: gpu.subgroups, results };
  } finally {
    gpu.dispose();
    for (const b of coops.values()) b.dispose();
    half?.dispose();
  }
}

export interface FusedGluResult {
  format: string;
  rows: number;
  cols: number;
  /** errors by `${threads per row}-${wg | sg}-${kind}-${tokens}` (wg, sg: the cooperative reductions) */
  err: Record<string, number>;
  /** every matmulGlu call fused (returned true) */
  fused: boolean;
  /** outputs with both weights split under a forced binding limit equal the unforced ones */
  splitIdentical: boolean;
  forcedChunks: number;
  /** f16-product errors (silu decode, GELU-tanh batch), when the adapter has shader-f16 */
  f16: { vec: number; batch: number } | null;
}

/** The fused op straight (no fallback), so a false return shows as fused = false. */
async function runGlu(b: Backend, g: Weight, u: Weight, x: Float32Array, n: number, kind: GluKind): Promise<{ y: Float32Array; fused: boolean }> {
  const xa = b.alloc(x.length);
  const out = b.alloc(n * g.rows);
  b.write(xa, x);
  const fused = b.matmulGlu?.(g, u, xa, out, n, kind) ?? false;
  const y = await b.read(out, 0, n * g.rows);
  b.free(xa);
  b.free(out);
  return { y, fused };
}

function gluRef(g: Float32Array, u: Float32Array, rows: number, cols: number, x: Float32Array, n: number, kind: GluKind): Float64Array {
  const act = kind === 'silu' ? siluRef : geluTanhRef;
  const gy = matmulRef(g, rows, cols, x, n), uy = matmulRef(u, rows, cols, x, n);
  return gy.map((v, i) => act(v) * uy[i]);
}

/** [backend, kind, tokens]: both kinds both ways serially, one of each on each cooperative path */
const GLU_CASES = [['1', 'silu', 1], ['1', 'silu', 11], ['1', 'gelu_tanh', 1], ['1', 'gelu_tanh', 11], ['16-wg', 'silu', 1], ['16-wg', 'gelu_tanh', 11],
  ['16-sg', 'silu', 1], ['16-sg', 'gelu_tanh', 11], ['4-sg', 'silu', 1], ['2-sg', 'gelu_tanh', 11]] as const;

async function oneFormatGlu(gpu: WebGPUBackend, coops: Coops, half: WebGPUBackend | null, t: FormatTraits, seed: number): Promise<FusedGluResult> {
  const r = rng(seed + t.type);
  const unit = Math.max(t.blockSize, 4) * (t.blockSize === 1 ? 8 : 1);
  const cols = unit * (1 + r.int(3));
  const rows = 13 + r.int(40);
  const g = quantized(t, r, rows, cols), u = quantized(t, r, rows, cols);
  const x = { 1: randn(r, cols), 11: randn(r, 11 * cols) };
  const up = (b: Backend) => [b.uploadWeight(`${t.id}-gate`, t.type, cols, rows, g.bytes), b.uploadWeight(`${t.id}-up`, t.type, cols, rows, u.bytes)];
  const backends = new Map<string, WebGPUBackend>([['1', gpu], ...coops]);
  const weights = new Map([...backends].map(([k, b]) => [k, up(b)]));
  const err: Record<string, number> = {};
  const serial = new Map<string, Float32Array>();
  let fused = true;
  for (const [key, kind, n] of GLU_CASES) {
    const b = backends.get(key);
    if (!b) continue; // no subgroups on this adapter
    const [gw, uw] = weights.get(key)!;
    const res = await runGlu(b, gw, uw, x[n], n, kind);
    fused &&= res.fused;
    err[`${key}-${kind}-${n}`] = relErr(res.y, gluRef(g.deq, u.deq, rows, cols, x[n], n, kind));
    if (key === '1') serial.set(`${kind}-${n}`, res.y);
  }
  const rowBytes = (cols / t.blockSize) * t.typeSize;
  const forced = await createWebGPUBackend({ threadsPerRow: 1, f16: false, forceMaxBindingBytes: Math.ceil((rowBytes * 4) / 4) * 4 });
  const [gf, uf] = up(forced);
  let splitIdentical = true;
  for (const n of [1, 11] as const) {
    const res = await runGlu(forced, gf, uf, x[n], n, 'silu');
    splitIdentical &&= res.fused && same(res.y, serial.get(`silu-${n}`)!);
  }
  forced.dispose();
  let f16: FusedGluResult['f16'] = null;
  if (half) {
    const [gh, uh] = up(half);
    f16 = {
      vec: relErr((await runGlu(half, gh, uh, x[1], 1, 'silu')).y, gluRef(g.deq, u.deq, rows, cols, x[1], 1, 'silu')),
      batch: relErr((await runGlu(half, gh, uh, x[11], 11, 'gelu_tanh')).y, gluRef(g.deq, u.deq, rows, cols, x[11], 11, 'gelu_tanh')),
    };
  }
  return { format: t.id, rows, cols, err, fused, splitIdentical, forcedChunks: (gf as GPUWeight).chunks.length, f16 };
}

/** gate and up of two formats (Q4_K_M files mix them): matmulGlu declines, gatedMatmul runs the unfused ops. */
async function mixedPair(b: WebGPUBackend, seed: number): Promise<{ err: number; fused: boolean }> {
  const r = rng(seed);
  const [tg, tu] = ['q4_0', 'q8_0'].map((id) => [...FORMAT_TRAITS.values()].find((t) => t.id === id)!);
  const rows = 24, cols = 64, n = 3;
  const g = quantized(tg, r, rows, cols), u = quantized(tu, r, rows, cols);
  const gw = b.uploadWeight('gate', tg.type, cols, rows, g.bytes), uw = b.uploadWeight('up', tu.type, cols, rows, u.bytes);
  const x = randn(r, n * cols);
  const xa = b.alloc(x.length), out = b.alloc(n * rows), scratch = b.alloc(n * rows);
  b.write(xa, x);
  const fused = b.matmulGlu(gw, uw, xa, out, n, 'silu');
  gatedMatmul(b, gw, uw, xa, out, scratch, n, 'silu');
  return { err: relErr(await b.read(out, 0, n * rows), gluRef(g.deq, u.deq, rows, cols, x, n, 'silu')), fused };
}

export async function runFusedGlu(seed: number): Promise<{ shaderF16: boolean; subgroups: boolean; results: FusedGluResult[]; mixed: { err: number; fused: boolean } }> {
  const gpu = await createWebGPUBackend({ threadsPerRow: 1, f16: false });
  const coops = await coopBackends(gpu.subgroups);
  const half = gpu.caps.shaderF16 ? await createWebGPUBackend({ f16: true }) : null;
  try {
    const results: FusedGluResult[] = [];
    for (const t of FORMAT_TRAITS.values()) results.push(await oneFormatGlu(gpu, coops, half, t, seed));
    return { shaderF16: gpu.caps.shaderF16, subgroups: gpu.subgroups, results, mixed: await mixedPair(gpu, seed) };
  } finally {
    gpu.dispose();
    for (const b of coops.values()) b.dispose();
    half?.dispose();
  }
}
