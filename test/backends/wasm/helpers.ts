// Test helpers for the WASM backend: random tensors in every block format (random quant bytes,
// sane f16 scales written at the layout offsets from src/quant) and an error metric.
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { f32ToBF16, f32ToF16, writeF16 } from '../../../src/quant/half.ts';
import { GGMLType, type FormatTraits } from '../../../src/quant/types.ts';
import { IQ4_NL_D } from '../../../src/quant/iq4_nl.ts';
import { IQ4_XS_D } from '../../../src/quant/iq4_xs.ts';
import { Q2_K_D, Q2_K_DMIN } from '../../../src/quant/q2_k.ts';
import { Q3_K_D } from '../../../src/quant/q3_k.ts';
import { Q4_0_D } from '../../../src/quant/q4_0.ts';
import { Q4_1_D, Q4_1_M } from '../../../src/quant/q4_1.ts';
import { Q4_K_D, Q4_K_DMIN } from '../../../src/quant/q4_k.ts';
import { Q5_0_D } from '../../../src/quant/q5_0.ts';
import { Q5_1_D, Q5_1_M } from '../../../src/quant/q5_1.ts';
import { Q5_K_D, Q5_K_DMIN } from '../../../src/quant/q5_k.ts';
import { Q6_K_D } from '../../../src/quant/q6_k.ts';
import { Q8_0_D } from '../../../src/quant/q8_0.ts';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(n: number, r: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** Byte offsets of each format's f16 scale fields (scale d, and min/dmin where present). */
const SCALE_FIELDS: Partial<Record<string, number[]>> = {
  q8_0: [Q8_0_D], q4_0: [Q4_0_D], q4_1: [Q4_1_D, Q4_1_M], q5_0: [Q5_0_D], q5_1: [Q5_1_D, Q5_1_M],
  q2_k: [Q2_K_D, Q2_K_DMIN], q3_k: [Q3_K_D], q4_k: [Q4_K_D, Q4_K_DMIN], q5_k: [Q5_K_D, Q5_K_DMIN], q6_k: [Q6_K_D],
  iq4_nl: [IQ4_NL_D], iq4_xs: [IQ4_XS_D], mlc_q4f16: [0],
};
/** Formats whose scale is an f32 at the block's start (the MLC q4f32 block). */
const F32_SCALE = new Set(['mlc_q4f32']);

/** rows × cols values of `t` as raw GGUF bytes. */
export function randomTensor(t: FormatTraits, rows: number, cols: number, r: () => number): Uint8Array {
  const n = rows * cols;
  if (t.type === GGMLType.F32) return new Uint8Array(randomF32(n, r).buffer);
  if (t.type === GGMLType.F16 || t.type === GGMLType.BF16) {
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = (t.type === GGMLType.F16 ? f32ToF16 : f32ToBF16)(r() * 2 - 1);
    return new Uint8Array(h.buffer);
  }
  if (F32_SCALE.has(t.id)) {
    const bytes = new Uint8Array((n / t.blockSize) * t.typeSize);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (r() * 256) | 0;
    const dv = new DataView(bytes.buffer);
    for (let b = 0; b < n / t.blockSize; b++) dv.setFloat32(b * t.typeSize, (r() * 2 - 1) * 0.05, true);
    return bytes;
  }
  const fields = SCALE_FIELDS[t.id];
  if (!fields) throw new Error(`no scale layout for ${t.id}`);
  const nBlocks = n / t.blockSize;
  const bytes = new Uint8Array(nBlocks * t.typeSize);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (r() * 256) | 0;
  for (let b = 0; b < nBlocks; b++) {
    for (const off of fields) writeF16(bytes, b * t.typeSize + off, (r() * 2 - 1) * 0.05);
  }
  return bytes;
}

export function dequant(t: FormatTraits, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  t.dequantize(bytes, 0, n / t.blockSize, out, 0);
  return out;
}

export const ALL_FORMATS: FormatTraits[] = [...FORMAT_TRAITS.values()];

/** max|a − b| / max|b|: the normalized error every test states a bound for. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** out[t][r] = sum_c w[r][c]·x[t][c] in f64. */
export function refMatmul(w: Float32Array, x: Float32Array, rows: number, cols: number, nTokens: number): Float64Array {
  const out = new Float64Array(nTokens * rows);
  for (let t = 0; t < nTokens; t++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[t * cols + c];
      out[t * rows + r] = s;
    }
  }
  return out;
}

/** x rounded like the kernels: per qb block d = amax/127 (f32), q = round-half-even(x/d). */
export function roundActs(x: Float32Array, qb: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < x.length; b += qb) {
    let amax = 0;
    for (let i = b; i < b + qb; i++) amax = Math.max(amax, Math.abs(x[i]));
    const d = Math.fround(amax / 127);
    const inv = d > 0 ? Math.fround(1 / d) : 0;
    for (let i = b; i < b + qb; i++) {
      const v = Math.fround(x[i] * inv);
      let q = Math.round(v);
      if (q - v === 0.5 && q % 2 !== 0) q -= 1;
      out[i] = q * d;
    }
  }
  return out;
}
