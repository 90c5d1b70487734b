// Format-independent half of matmul: runs of dequantized weight rows (in scratch) dotted with the
// same columns of every token, accumulated into out. Four rows go together so each x load feeds
// four accumulators; tokens go two (or, for a lone row, four) at a time so each weight load is
// reused too.
import { dotF32, hsum } from './common';

/** Floats of per-thread scratch (16 KiB, stays in L1): 4 rows × ROW_CHUNK. */
export const CHUNK: i32 = 4096;
/** Floats of one weight row dequantized per step. */
export const ROW_CHUNK: i32 = CHUNK / 4;

/** out[t·oStride] = 0 for t < nTokens (strides in floats). */
export function zeroColumn(out: usize, oStride: i32, nTokens: i32): void {
  for (let t = 0; t < nTokens; t++) store<f32>(out + ((<usize>t * oStride) << 2), 0);
}

@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline function addTo(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}

/** out[t·oStride] += sum_j w[j]·x[t·xStride + j], j < n, for t < nTokens. */
export function accumulateRow(w: usize, x: usize, xStride: i32, out: usize, oStride: i32, n: i32, nTokens: i32): void {
  const xs = <usize>xStride << 2;
  const os = <usize>oStride << 2;
  const n4 = n & ~3;
  let t = 0;
  for (; t + 4 <= nTokens; t += 4) {
    const x0 = x + <usize>t * xs;
    const x1 = x0 + xs;
    const x2 = x1 + xs;
    const x3 = x2 + xs;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>j << 2;
      const wv = v128.load(w + o);
      a0 = fma(a0, wv, v128.load(x0 + o));
      a1 = fma(a1, wv, v128.load(x1 + o));
      a2 = fma(a2, wv, v128.load(x2 + o));
      a3 = fma(a3, wv, v128.load(x3 + o));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (let j = n4; j < n; j++) {
      const o = <usize>j << 2;
      const wj = load<f32>(w + o);
      s0 += wj * load<f32>(x0 + o);
      s1 += wj * load<f32>(x1 + o);
      s2 += wj * load<f32>(x2 + o);
      s3 += wj * load<f32>(x3 + o);
    }
    const o0 = out + <usize>t * os;
    addTo(o0, s0);
    addTo(o0 + os, s1);
    addTo(o0 + 2 * os, s2);
    addTo(o0 + 3 * os, s3);
  }
  for (; t < nTokens; t++) addTo(out + <usize>t * os, dotF32(w, x + <usize>t * xs, n));
}

/** Four rows (scratch rows wStride floats apart) into output columns out, out+4, out+8, out+12. */
export function accumulate4Rows(w: usize, wStride: i32, x: usize, xStride: i32, out: usize, oStride: i32,
  n: i32, nTokens: i32): void {
  const ws = <usize>wStride << 2;
  const xs = <usize>xStride << 2;
  const os = <usize>oStride << 2;
  const n4 = n & ~3;
  let t = 0;
  for (; t + 2 <= nTokens; t += 2) {
    const xa = x + <usize>t * xs;
    const xb = xa + xs;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>j << 2;
      const va = v128.load(xa + o);
      const vb = v128.load(xb + o);
      const w0 = v128.load(w + o);
      a0 = fma(a0, w0, va);
      b0 = fma(b0, w0, vb);
      const w1 = v128.load(w + ws + o);
      a1 = fma(a1, w1, va);
      b1 = fma(b1, w1, vb);
      const w2 = v128.load(w + 2 * ws + o);
      a2 = fma(a2, w2, va);
      b2 = fma(b2, w2, vb);
      const w3 = v128.load(w + 3 * ws + o);
      a3 = fma(a3, w3, va);
      b3 = fma(b3, w3, vb);
    }
    const oa = out + <usize>t * os;
    const ob = oa + os;
    addTo(oa, hsum(a0) + tail(w, xa, n4, n));
    addTo(oa + 4, hsum(a1) + tail(w + ws, xa, n4, n));
    addTo(oa + 8, hsum(a2) + tail(w + 2 * ws, xa, n4, n));
    addTo(oa + 12, hsum(a3) + tail(w + 3 * ws, xa, n4, n));
    addTo(ob, hsum(b0) + tail(w, xb, n4, n));
    addTo(ob + 4, hsum(b1) + tail(w + ws, xb, n4, n));
    addTo(ob + 8, hsum(b2) + tail(w + 2 * ws, xb, n4, n));
    addTo(ob + 12, hsum(b3) + tail(w + 3 * ws, xb, n4, n));
  }
  if (t < nTokens) {
    const xa = x + <usize>t * xs;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>j << 2;
      const va = v128.load(xa + o);
      a0 = fma(a0, v128.load(w + o), va);
      a1 = fma(a1, v128.load(w + ws + o), va);
      a2 = fma(a2, v128.load(w + 2 * ws + o), va);
      a3 = fma(a3, v128.load(w + 3 * ws + o), va);
    }
    const oa = out + <usize>t * os;
    addTo(oa, hsum(a0) + tail(w, xa, n4, n));
    addTo(oa + 4, hsum(a1) + tail(w + ws, xa, n4, n));
    addTo(oa + 8, hsum(a2) + tail(w + 2 * ws, xa, n4, n));
    addTo(oa + 12, hsum(a3) + tail(w + 3 * ws, xa, n4, n));
  }
}

/** sum w[j]·x[j] for j0 ≤ j < n (the < 4 leftovers of a SIMD loop). */
@inline function tail(w: usize, x: usize, j0: i32, n: i32): f32 {
  let s: f32 = 0;
  for (let j = j0; j < n; j++) s += load<f32>(w + (<usize>j << 2)) * load<f32>(x + (<usize>j << 2));
  return s;
}
