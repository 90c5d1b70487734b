// Four-token versions of the formats-q8.ts snippets for prefill: `rowdotq4_<id>(w, x, stride,
// dOff, sOff, nb, out, os)` dots one weight row (nb blocks at w) with the 8-bit rows of tokens
// x, x + stride, x + 2·stride, x + 3·stride and stores the four sums at out, out + os, … (bytes).
// Each weight block is unpacked and its scales decoded once for the four tokens.
import { loadF16 } from './common';
import { dot16 } from './dot';
import { kScaleMin } from './formats';
import { LO4, dotS8, dotScaled2, dotU7, hsumI, sum16 } from './formats-q8';

@inline function scaleOf(x: usize, dOff: usize, b: i32): f32 {
  return load<f32>(x + dOff + (<usize>b << 2));
}

@inline function store4(out: usize, os: usize, s0: f32, s1: f32, s2: f32, s3: f32): void {
  store<f32>(out, s0);
  store<f32>(out + os, s1);
  store<f32>(out + 2 * os, s2);
  store<f32>(out + 3 * os, s3);
}

@inline function q8Tok(acc: v128, w0: v128, w1: v128, a: usize, s: f32): v128 {
  const p = dotS8(dotS8(i32x4.splat(0), w0, v128.load(a)), w1, v128.load(a + 16));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.splat(s)));
}

export function rowdotq4_q8_0(w: usize, x: usize, stride: usize, dOff: usize, _sOff: usize, nb: i32,
  out: usize, os: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 34;
    const w0 = v128.load(blk + 2);
    const w1 = v128.load(blk + 18);
    const d = loadF16(blk);
    const o = <usize>b << 5;
    a0 = q8Tok(a0, w0, w1, x + o, d * scaleOf(x, dOff, b));
    a1 = q8Tok(a1, w0, w1, x1 + o, d * scaleOf(x1, dOff, b));
    a2 = q8Tok(a2, w0, w1, x2 + o, d * scaleOf(x2, dOff, b));
    a3 = q8Tok(a3, w0, w1, x3 + o, d * scaleOf(x3, dOff, b));
  }
  store4(out, os, hsumF(a0), hsumF(a1), hsumF(a2), hsumF(a3));
}

@inline function hsumF(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function q4Tok(acc: v128, lo: v128, hi: v128, a: usize, s: f32): v128 {
  const p = dotU7(dotU7(i32x4.splat(0), lo, v128.load(a)), hi, v128.load(a + 16));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.splat(s)));
}

@inline function q4Corr(x: usize, sOff: usize, b: i32, s: f32): f32 {
  return s * <f32>(sum16(x + sOff, <usize>(2 * b)) + sum16(x + sOff, <usize>(2 * b + 1)));
}

export function rowdotq4_q4_0(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0;
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 18;
    const q = v128.load(blk + 2);
    const lo = v128.and(q, LO4);
    const hi = i8x16.shr_u(q, 4);
    const d = loadF16(blk);
    const o = <usize>b << 5;
    const s0 = d * scaleOf(x, dOff, b), s1 = d * scaleOf(x1, dOff, b);
    const s2 = d * scaleOf(x2, dOff, b), s3 = d * scaleOf(x3, dOff, b);
    a0 = q4Tok(a0, lo, hi, x + o, s0);
    a1 = q4Tok(a1, lo, hi, x1 + o, s1);
    a2 = q4Tok(a2, lo, hi, x2 + o, s2);
    a3 = q4Tok(a3, lo, hi, x3 + o, s3);
    c0 += q4Corr(x, sOff, b, s0);
    c1 += q4Corr(x1, sOff, b, s1);
    c2 += q4Corr(x2, sOff, b, s2);
    c3 += q4Corr(x3, sOff, b, s3);
  }
  store4(out, os, hsumF(a0) - 8 * c0, hsumF(a1) - 8 * c1, hsumF(a2) - 8 * c2, hsumF(a3) - 8 * c3);
}

/** One token's 64 values of q4_k chunk: low-nibble sub-block (scale sl) and high (scale sh). */
@inline function q4kTok(acc: v128, lo0: v128, lo1: v128, hi0: v128, hi1: v128, a: usize, sl: v128, sh: v128): v128 {
  acc = dotScaled2(acc, lo0, v128.load(a), lo1, v128.load(a + 16), sl);
  return dotScaled2(acc, hi0, v128.load(a + 32), hi1, v128.load(a + 48), sh);
}

/** Σ_j m_j · (sum of sub-block j's activations) for one token of a q4_k block. */
@inline function q4kMins(sc: usize, s: usize): i32 {
  let m = 0;
  for (let j: u32 = 0; j < 8; j++) m += <i32>kScaleMin(sc, j, 4) * (sum16(s, <usize>(2 * j)) + sum16(s, <usize>(2 * j + 1)));
  return m;
}

@inline function q4kDone(x: usize, dOff: usize, sOff: usize, b: i32, sc: usize, isum: v128, d: f32, dmin: f32): f32 {
  return scaleOf(x, dOff, b) * (d * <f32>hsumI(isum) - dmin * <f32>q4kMins(sc, x + sOff + (<usize>b << 5)));
}

export function rowdotq4_q4_k(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize): void {
  let f0: f32 = 0, f1: f32 = 0, f2: f32 = 0, f3: f32 = 0;
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 144;
    const o = <usize>b << 8;
    let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
    for (let c: u32 = 0; c < 4; c++) {
      const q0 = v128.load(blk + 16 + c * 32);
      const q1 = v128.load(blk + 32 + c * 32);
      const lo0 = v128.and(q0, LO4), lo1 = v128.and(q1, LO4);
      const hi0 = i8x16.shr_u(q0, 4), hi1 = i8x16.shr_u(q1, 4);
      const sl = i16x8.splat(<i16>kScaleMin(blk + 4, 2 * c, 0));
      const sh = i16x8.splat(<i16>kScaleMin(blk + 4, 2 * c + 1, 0));
      const oc = o + c * 64;
      i0 = q4kTok(i0, lo0, lo1, hi0, hi1, x + oc, sl, sh);
      i1 = q4kTok(i1, lo0, lo1, hi0, hi1, x1 + oc, sl, sh);
      i2 = q4kTok(i2, lo0, lo1, hi0, hi1, x2 + oc, sl, sh);
      i3 = q4kTok(i3, lo0, lo1, hi0, hi1, x3 + oc, sl, sh);
    }
    const d = loadF16(blk);
    const dmin = loadF16(blk + 2);
    f0 += q4kDone(x, dOff, sOff, b, blk + 4, i0, d, dmin);
    f1 += q4kDone(x1, dOff, sOff, b, blk + 4, i1, d, dmin);
    f2 += q4kDone(x2, dOff, sOff, b, blk + 4, i2, d, dmin);
    f3 += q4kDone(x3, dOff, sOff, b, blk + 4, i3, d, dmin);
  }
  store4(out, os, f0, f1, f2, f3);
}

@inline function q6Tok(acc: v128, q: v128, a: usize, sc: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q, v128.load(a)), sc));
}

/** Σ_g sc_g · (sum of group g's activations) for one token of a q6_k block. */
@inline function q6Offset(sc: usize, s: usize): i32 {
  let off = 0;
  for (let g: usize = 0; g < 16; g++) off += <i32>load<i8>(sc + g) * sum16(s, g);
  return off;
}

@inline function q6Done(x: usize, dOff: usize, sOff: usize, b: i32, sc: usize, isum: v128, d: f32): f32 {
  return scaleOf(x, dOff, b) * d * <f32>(hsumI(isum) - 32 * q6Offset(sc, x + sOff + (<usize>b << 5)));
}

export function rowdotq4_q6_k(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize): void {
  let f0: f32 = 0, f1: f32 = 0, f2: f32 = 0, f3: f32 = 0;
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  const three = i8x16.splat(3);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 210;
    let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
    // group g = 8n + 2k + h: values 16g.., nibble of ql[64n + 32(k&1) + 16h] (high when k ≥ 2), qh bits 2k
    for (let g: usize = 0; g < 16; g++) {
      const n = g >> 3, k = (g >> 1) & 3, h = g & 1;
      const lv = v128.load(blk + n * 64 + (k & 1) * 32 + h * 16);
      const hv = v128.load(blk + 128 + n * 32 + h * 16);
      const nib = k < 2 ? v128.and(lv, LO4) : i8x16.shr_u(lv, 4);
      const q = v128.or(nib, i8x16.shl(v128.and(i8x16.shr_u(hv, <i32>(2 * k)), three), 4));
      const sc = i16x8.splat(<i16>load<i8>(blk + 192 + g));
      const o = (<usize>b << 8) + (g << 4);
      i0 = q6Tok(i0, q, x + o, sc);
      i1 = q6Tok(i1, q, x1 + o, sc);
      i2 = q6Tok(i2, q, x2 + o, sc);
      i3 = q6Tok(i3, q, x3 + o, sc);
    }
    const d = loadF16(blk + 208);
    f0 += q6Done(x, dOff, sOff, b, blk + 192, i0, d);
    f1 += q6Done(x1, dOff, sOff, b, blk + 192, i1, d);
    f2 += q6Done(x2, dOff, sOff, b, blk + 192, i2, d);
    f3 += q6Done(x3, dOff, sOff, b, blk + 192, i3, d);
  }
  store4(out, os, f0, f1, f2, f3);
}
