// Naive f64 reference math for the WebGPU op tests (runs in the page), written from the op
// definitions in src/backends/backend.ts, independent of the kernels.
import { f16ToF32, f32ToF16 } from '../../../src/quant/half.ts';
import { q8_0Traits } from '../../../src/quant/q8_0.ts';
import type { KVType } from '../../../src/backends/kv-layout.ts';

/** Seeded uniform [0, 1) (mulberry32) and standard normal draws. */
export function rng(seed: number): { uniform(): number; normal(): number; int(n: number): number } {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
    int: (n) => Math.floor(uniform() * n),
  };
}

export function randn(r: ReturnType<typeof rng>, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => r.normal() * scale);
}

/** ‖a − b‖₂ / ‖b‖₂ (0 when both are zero) */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function matmulRef(w: Float32Array, rows: number, cols: number, x: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n * rows);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[t * cols + c];
      out[t * rows + r] = s;
    }
  }
  return out;
}

export function rmsnormRef(x: Float32Array, w: Float32Array, n: number, eps: number): Float64Array {
  const d = w.length;
  const out = new Float64Array(n * d);
  for (let t = 0; t < n; t++) {
    let ss = 0;
    for (let c = 0; c < d; c++) ss += x[t * d + c] ** 2;
    const scale = 1 / Math.sqrt(ss / d + eps);
    for (let c = 0; c < d; c++) out[t * d + c] = x[t * d + c] * scale * w[c];
  }
  return out;
}

/** Rotary embedding from its definition: pair (a, b) rotated by (pos0 + t) · base^(−2i/nRot) / ff[i]. */
export function ropeRef(x: Float32Array, n: number, nHeads: number, headDim: number, pos0: number,
  nRot: number, base: number, neox: boolean, ff?: Float32Array, attnFactor = 1): Float64Array {
  const out = Float64Array.from(x);
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < nHeads; h++) {
      const o = (t * nHeads + h) * headDim;
      for (let i = 0; i < nRot / 2; i++) {
        const theta = ((pos0 + t) * base ** (-2 * i / nRot)) / (ff ? ff[i] : 1);
        const [a, b] = neox ? [o + i, o + i + nRot / 2] : [o + 2 * i, o + 2 * i + 1];
        out[a] = (x[a] * Math.cos(theta) - x[b] * Math.sin(theta)) * attnFactor;
        out[b] = (x[a] * Math.sin(theta) + x[b] * Math.cos(theta)) * attnFactor;
      }
    }
  }
  return out;
}

export const roundF16 = (a: Float32Array): Float32Array => a.map((v) => f16ToF32(f32ToF16(v)));

/** a as a q8_0 KV cache holds it: blocks of 32 by the reference quantizer (src/quant/q8_0.ts). */
export function roundQ8(a: Float32Array): Float32Array {
  const nb = a.length / 32;
  const blocks = new Uint8Array(nb * q8_0Traits.typeSize);
  q8_0Traits.quantize!(a, 0, nb, blocks, 0);
  const out = new Float32Array(a.length);
  q8_0Traits.dequantize(blocks, 0, nb, out, 0);
  return out;
}

/** What a KV cache of `type` holds of a. */
export const roundKV = (type: KVType, a: Float32Array): Float32Array => (type === 'f32' ? a : type === 'f16' ? roundF16(a) : roundQ8(a));

/**
 * Causal GQA attention: token t of q (position pos0 + t) over cached positions 0..pos0+t of
 * K/V ([nCtx][nHeadKV*headDim]), or only the last `window` of them; scores soft-capped by `cap`.
 */
export function attentionRef(q: Float32Array, K: Float32Array, V: Float32Array, pos0: number, n: number,
  nHead: number, nHeadKV: number, headDim: number, scale: number, window = 0, cap = 0): Float64Array {
  const kvDim = nHeadKV * headDim;
  const out = new Float64Array(n * nHead * headDim);
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKV));
      const qo = (t * nHead + h) * headDim;
      const j0 = window > 0 ? Math.max(0, pos0 + t - window + 1) : 0;
      const nk = pos0 + t + 1 - j0;
      const s = new Float64Array(nk);
      for (let jj = 0; jj < nk; jj++) {
        let d = 0;
        for (let i = 0; i < headDim; i++) d += q[qo + i] * K[(j0 + jj) * kvDim + kvh * headDim + i];
        s[jj] = cap > 0 ? cap * Math.tanh((d * scale) / cap) : d * scale;
      }
      const p = softmaxRef(s);
      for (let i = 0; i < headDim; i++) {
        let a = 0;
        for (let jj = 0; jj < nk; jj++) a += p[jj] * V[(j0 + jj) * kvDim + kvh * headDim + i];
        out[qo + i] = a;
      }
    }
  }
  return out;
}

export function softmaxRef(x: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]);
  const e = Float64Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export const siluRef = (g: number): number => g / (1 + Math.exp(-g));
export const geluTanhRef = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x)));
