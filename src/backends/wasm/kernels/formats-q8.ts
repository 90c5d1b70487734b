// Integer-path snippets, one per format that has one: `rowdotq_<id>(w, xq, xd, xs, nb)` is the dot
// of nb weight blocks at w with one token's 8-bit activations (q8-acts.ts layout: xq the bytes, xd
// the scales, xs the 16-value sums). Weights stay in their GGUF blocks; nibbles are multiplied as
// unsigned (0..15, 0..63) and the format's offset or min is taken off with the activation sums.
// The build's `qb` for each format (FORMATS in scripts/build-wasm.mjs) sets the activation block.
import { loadF16 } from './common';
import { dot16 } from './dot';
import { kScaleMin } from './formats';

export const LO4 = i8x16.splat(0x0f);

@inline export function hsumI(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

@inline function hsumF(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline export function sum16(xs: usize, g: usize): i32 {
  return <i32>load<i16>(xs + (g << 1));
}

/** acc (i32x4) += Σ w·a over 16 bytes (w 0..127); lanes hold partial sums. */
@inline export function dotU7(acc: v128, w: v128, a: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(dot16(w, a)));
}

/** acc += sc · (Σ w0·a0 + Σ w1·a1) over 16 bytes each, w ≤ 15 (so i16 pair sums cannot overflow). */
@inline export function dotScaled2(acc: v128, w0: v128, a0: v128, w1: v128, a1: v128, sc: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.add(dot16(w0, a0), dot16(w1, a1)), sc));
}

/** Exact signed × signed dot of 16 bytes, as i32x4 partial sums. */
@inline export function dotS8(acc: v128, w: v128, a: v128): v128 {
  acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(w, a)));
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(w, a)));
}

// q8_0 (qb 32): f16 d, i8 qs[32]
export function rowdotq_q8_0(w: usize, xq: usize, xd: usize, _xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 34;
    const a = xq + (<usize>b << 5);
    const p = dotS8(dotS8(i32x4.splat(0), v128.load(blk + 2), v128.load(a)), v128.load(blk + 18), v128.load(a + 16));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.splat(loadF16(blk) * load<f32>(xd + (<usize>b << 2)))));
  }
  return hsumF(acc);
}

// q4_0 (qb 32): f16 d, qs[16]; value (nibble − 8)·d, low nibbles first
export function rowdotq_q4_0(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  let corr: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 18;
    const a = xq + (<usize>b << 5);
    const q = v128.load(blk + 2);
    const p = dotU7(dotU7(i32x4.splat(0), v128.and(q, LO4), v128.load(a)), i8x16.shr_u(q, 4), v128.load(a + 16));
    const s = loadF16(blk) * load<f32>(xd + (<usize>b << 2));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.splat(s)));
    corr += s * <f32>(sum16(xs, 2 * b) + sum16(xs, 2 * b + 1));
  }
  return hsumF(acc) - 8 * corr;
}

// q4_k (qb 256): f16 d, f16 dmin, scales[12], qs[128]; sub-block j of 32 is sc_j·d·q − m_j·dmin
export function rowdotq_q4_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let sum: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 144;
    const a = xq + (<usize>b << 8);
    const s = xs + (<usize>b << 5);
    let isum = i32x4.splat(0);
    let msum: i32 = 0;
    for (let c: u32 = 0; c < 4; c++) {
      const q0 = v128.load(blk + 16 + c * 32);
      const q1 = v128.load(blk + 32 + c * 32);
      const ac = a + c * 64;
      isum = dotScaled2(isum, v128.and(q0, LO4), v128.load(ac), v128.and(q1, LO4), v128.load(ac + 16),
        i16x8.splat(<i16>kScaleMin(blk + 4, 2 * c, 0)));
      isum = dotScaled2(isum, i8x16.shr_u(q0, 4), v128.load(ac + 32), i8x16.shr_u(q1, 4), v128.load(ac + 48),
        i16x8.splat(<i16>kScaleMin(blk + 4, 2 * c + 1, 0)));
      const g = <usize>(4 * c);
      msum += <i32>kScaleMin(blk + 4, 2 * c, 4) * (sum16(s, g) + sum16(s, g + 1))
        + <i32>kScaleMin(blk + 4, 2 * c + 1, 4) * (sum16(s, g + 2) + sum16(s, g + 3));
    }
    sum += load<f32>(xd + (<usize>b << 2)) * (loadF16(blk) * <f32>hsumI(isum) - loadF16(blk + 2) * <f32>msum);
  }
  return sum;
}

/** One 16-value group of q6_k: 6-bit q (0..63) from a nibble vector and 2 high bits. */
@inline function q6Group(acc: v128, nib: v128, hv: v128, shift: u32, a: usize, sc: i32): v128 {
  const q = v128.or(nib, i8x16.shl(v128.and(i8x16.shr_u(hv, shift), i8x16.splat(3)), 4));
  return i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q, v128.load(a)), i16x8.splat(<i16>sc)));
}

// q6_k (qb 256): ql[128], qh[64], i8 scales[16], f16 d; value (q − 32)·sc·d per 16 values.
// Group (n, k, h) holds values n·128 + 32k + 16h .. +16 with scale sc[8n + 2k + h].
export function rowdotq_q6_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let sum: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 210;
    const a = xq + (<usize>b << 8);
    const s = xs + (<usize>b << 5);
    let isum = i32x4.splat(0);
    let off: i32 = 0;
    for (let g: usize = 0; g < 16; g++) off += <i32>load<i8>(blk + 192 + g) * sum16(s, g);
    for (let n: usize = 0; n < 2; n++) {
      const ql = blk + n * 64;
      const sc = blk + 192 + n * 8;
      const an = a + n * 128;
      for (let h: usize = 0; h < 2; h++) {
        const l0 = v128.load(ql + h * 16);
        const l1 = v128.load(ql + 32 + h * 16);
        const hv = v128.load(blk + 128 + n * 32 + h * 16);
        const ah = an + h * 16;
        isum = q6Group(isum, v128.and(l0, LO4), hv, 0, ah, <i32>load<i8>(sc + h));
        isum = q6Group(isum, v128.and(l1, LO4), hv, 2, ah + 32, <i32>load<i8>(sc + h + 2));
        isum = q6Group(isum, i8x16.shr_u(l0, 4), hv, 4, ah + 64, <i32>load<i8>(sc + h + 4));
        isum = q6Group(isum, i8x16.shr_u(l1, 4), hv, 6, ah + 96, <i32>load<i8>(sc + h + 6));
      }
    }
    sum += load<f32>(xd + (<usize>b << 2)) * loadF16(blk + 208) * <f32>(hsumI(isum) - 32 * off);
  }
  return sum;
}
