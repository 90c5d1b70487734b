// Format-independent half of matmul: a dequantized run of one weight row (in scratch) dotted with
// the same columns of every token, accumulated into out. Tokens go 4 at a time so each scratch
// vector load feeds four accumulators.
import { dotF32, hsum } from './common';

/** Floats of one weight row dequantized per step: 16 KiB of scratch, stays in L1. */
export const CHUNK: i32 = 4096;

/** out[t·oStride] = 0 for t < nTokens (strides in floats). */
export function zeroColumn(out: usize, oStride: i32, nTokens: i32): void {
  for (let t = 0; t < nTokens; t++) store<f32>(out + ((<usize>t * oStride) << 2), 0);
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
      a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(x0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(wv, v128.load(x1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(wv, v128.load(x2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(wv, v128.load(x3 + o)));
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
    store<f32>(o0, load<f32>(o0) + s0);
    store<f32>(o0 + os, load<f32>(o0 + os) + s1);
    store<f32>(o0 + 2 * os, load<f32>(o0 + 2 * os) + s2);
    store<f32>(o0 + 3 * os, load<f32>(o0 + 3 * os) + s3);
  }
  for (; t < nTokens; t++) {
    const o = out + <usize>t * os;
    store<f32>(o, load<f32>(o) + dotF32(w, x + <usize>t * xs, n));
  }
}
