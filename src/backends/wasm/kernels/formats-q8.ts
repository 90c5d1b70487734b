// Integer-path snippets, one per format that has one: `rowdotq_<id>(w, xq, xd, xs, nb)` is the dot
// of nb weight blocks at w with one token's 8-bit activations (q8-acts.ts layout: xq the bytes, xd
// the scales, xs the 16-value sums). Weights stay in their GGUF blocks; nibbles are multiplied as
// unsigned (0..15, 0..63) and the format's offset or min is taken off with the activation sums.
// The build's `qb` for each format (FORMATS in scripts/build-wasm.mjs) sets the activation block.
import { f16x4ToF32, loadF16 } from './common';
import { dot16, dotSS, dotSS2 } from './dot';

export const LO4 = i8x16.splat(0x0f);

@inline export function hsumI(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

@inline export function hsumF(v: v128): f32 {
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

// q8_0 (qb 32): f16 d, i8 qs[32]

/** Σ w·a over one q8_0 block's 32 weights at blk + 2 and 32 activation bytes at a (i32x4 partial sums; ones: see dotSS2). */
@inline export function q8Block(blk: usize, a: usize, ones: v128): v128 {
  return dotSS2(v128.load(blk + 2), v128.load(a), v128.load(blk + 18), v128.load(a + 16), ones);
}

/** The leading f16 scales of four blocks of `size` bytes from blk, as f32x4 (gathered, converted at once). */
@inline export function scales4(blk: usize, size: usize): v128 {
  let h = i32x4.splat(0);
  h = v128.load16_lane(blk, h, 0);
  h = v128.load16_lane(blk + size, h, 2);
  h = v128.load16_lane(blk + 2 * size, h, 4);
  h = v128.load16_lane(blk + 3 * size, h, 6);
  return f16x4ToF32(h);
}

/** [Σ p0, Σ p1, Σ p2, Σ p3]: the lane sums of four i32x4 in one vector. */
@inline export function sum4(p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  const u = i32x4.add(i32x4.shuffle(p0, p1, 0, 1, 4, 5), i32x4.shuffle(p0, p1, 2, 3, 6, 7));
  const v = i32x4.add(i32x4.shuffle(p2, p3, 0, 1, 4, 5), i32x4.shuffle(p2, p3, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(u, v, 0, 2, 4, 6), i32x4.shuffle(u, v, 1, 3, 5, 7));
}

/** Four blocks per step: their integer sums and scales (weight d × activation d) as one vector each. */
export function rowdotq_q8_0(w: usize, xq: usize, xd: usize, _xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  const ones = i16x8.splat(<i16>((nb >>> 31) ^ 1)); // 1, kept in a register (nb ≥ 0)
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const blk = w + <usize>b * 34;
    const a = xq + (<usize>b << 5);
    const p = sum4(q8Block(blk, a, ones), q8Block(blk + 34, a + 32, ones), q8Block(blk + 68, a + 64, ones),
      q8Block(blk + 102, a + 96, ones));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.mul(scales4(blk, 34), v128.load(xd + (<usize>b << 2)))));
  }
  let tail: f32 = 0;
  for (; b < nb; b++) {
    const blk = w + <usize>b * 34;
    tail += <f32>hsumI(q8Block(blk, xq + (<usize>b << 5), ones)) * loadF16(blk) * load<f32>(xd + (<usize>b << 2));
  }
  return hsumF(acc) + tail;
}

// q4_0 (qb 32): f16 d, qs[16]; value (nibble − 8)·d, low nibbles first
@inline function q4Block(blk: usize, a: usize): v128 {
  const q = v128.load(blk + 2);
  return dotU7(dotU7(i32x4.splat(0), v128.and(q, LO4), v128.load(a)), hiNib(q), v128.load(a + 16));
}

/** As rowdotq_q8_0, four blocks per step; the −8 offset is taken off with the blocks' activation sums. */
export function rowdotq_q4_0(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const blk = w + <usize>b * 18;
    const a = xq + (<usize>b << 5);
    const p = sum4(q4Block(blk, a), q4Block(blk + 18, a + 32), q4Block(blk + 36, a + 64), q4Block(blk + 54, a + 96));
    const sums = i32x4.extadd_pairwise_i16x8_s(v128.load(xs + (<usize>b << 2)));
    const s = f32x4.mul(scales4(blk, 18), v128.load(xd + (<usize>b << 2)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(p, i32x4.shl(sums, 3))), s));
  }
  let tail: f32 = 0;
  for (; b < nb; b++) {
    const blk = w + <usize>b * 18;
    const p = hsumI(q4Block(blk, xq + (<usize>b << 5))) - 8 * (sum16(xs, 2 * b) + sum16(xs, 2 * b + 1));
    tail += <f32>p * loadF16(blk) * load<f32>(xd + (<usize>b << 2));
  }
  return hsumF(acc) + tail;
}

/** High nibbles of 16 bytes as 0..15 (an i16 shift and a mask: cheaper than i8x16.shr_u on x64). */
@inline export function hiNib(q: v128): v128 {
  return v128.and(i16x8.shr_u(q, 4), LO4);
}

/**
 * The 6-bit scales (bytes 0..7) and mins (bytes 8..15) of a q4_k/q5_k block, decoded from the 12
 * packed bytes at p (the 4 bytes read past them are masked off): sub-block j < 4 keeps the low 6
 * bits of scale byte j (min: j + 4); j ≥ 4 takes a nibble of byte j + 4 and the top 2 bits of
 * byte j − 4 (min: byte j).
 */
@inline export function kScalesMins(p: usize): v128 {
  const v = v128.load(p);
  const a = i8x16.shuffle(v, v, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11);
  const low = v128.or(v128.and(a, i8x16(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0)),
    v128.and(i16x8.shr_u(a, 4), i8x16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15)));
  const top = v128.and(i8x16.shuffle(v, v, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7),
    i8x16(0, 0, 0, 0, -64, -64, -64, -64, 0, 0, 0, 0, -64, -64, -64, -64));
  return v128.or(low, i16x8.shr_u(top, 2));
}

/** Σ_j min_j · (activation sum of sub-block j) as i32x4 partial sums; mins = i16 mins 0..7, s the 16-value sums. */
@inline export function kMinSums(mins: v128, s: usize): v128 {
  const lo = i16x8.shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3);
  const hi = i16x8.shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7);
  return i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(s)), i32x4.dot_i16x8_s(hi, v128.load(s + 16)));
}

/** 64 values of q4_k (32 weight bytes at q: low nibbles sub-block sl, high sh) against activations at a. */
@inline function q4kChunk(acc: v128, q: usize, a: usize, sl: v128, sh: v128): v128 {
  const q0 = v128.load(q);
  const q1 = v128.load(q + 16);
  acc = dotScaled2(acc, v128.and(q0, LO4), v128.load(a), v128.and(q1, LO4), v128.load(a + 16), sl);
  return dotScaled2(acc, hiNib(q0), v128.load(a + 32), hiNib(q1), v128.load(a + 48), sh);
}

/** Σ sc_j · (sub-block j · activations) over one q4_k block, scales s16 as i16 (i32x4 partial sums). */
@inline export function q4kBlock(blk: usize, a: usize, s16: v128): v128 {
  let acc = q4kChunk(i32x4.splat(0), blk + 16, a, i16x8.shuffle(s16, s16, 0, 0, 0, 0, 0, 0, 0, 0),
    i16x8.shuffle(s16, s16, 1, 1, 1, 1, 1, 1, 1, 1));
  acc = q4kChunk(acc, blk + 48, a + 64, i16x8.shuffle(s16, s16, 2, 2, 2, 2, 2, 2, 2, 2),
    i16x8.shuffle(s16, s16, 3, 3, 3, 3, 3, 3, 3, 3));
  acc = q4kChunk(acc, blk + 80, a + 128, i16x8.shuffle(s16, s16, 4, 4, 4, 4, 4, 4, 4, 4),
    i16x8.shuffle(s16, s16, 5, 5, 5, 5, 5, 5, 5, 5));
  return q4kChunk(acc, blk + 112, a + 192, i16x8.shuffle(s16, s16, 6, 6, 6, 6, 6, 6, 6, 6),
    i16x8.shuffle(s16, s16, 7, 7, 7, 7, 7, 7, 7, 7));
}

/** d·isum − dmin·msum (both i32x4 partial sums) scaled by the activation scale xd, as f32x4. */
@inline export function kFinish(isum: v128, msum: v128, d: f32, dmin: f32, xd: f32): v128 {
  return f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(d * xd)),
    f32x4.mul(f32x4.convert_i32x4_s(msum), f32x4.splat(dmin * xd)));
}

// q4_k (qb 256): f16 d, f16 dmin, scales[12], qs[128]; sub-block j of 32 is sc_j·d·q − m_j·dmin
export function rowdotq_q4_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 144;
    const sm = kScalesMins(blk + 4);
    const isum = q4kBlock(blk, xq + (<usize>b << 8), i16x8.extend_low_i8x16_u(sm));
    const msum = kMinSums(i16x8.extend_high_i8x16_u(sm), xs + (<usize>b << 5));
    acc = f32x4.add(acc, kFinish(isum, msum, loadF16(blk), loadF16(blk + 2), load<f32>(xd + (<usize>b << 2))));
  }
  return hsumF(acc);
}

/** The 6-bit values of q6_k group k (0..3) of 16: a nibble of l plus 2 bits of hv moved to bits 4..5. */
@inline export function q6Values(l: v128, hv: v128, k: i32): v128 {
  if (k == 0) return v128.or(v128.and(l, LO4), i16x8.shl(v128.and(hv, i8x16.splat(0x03)), 4));
  if (k == 1) return v128.or(v128.and(l, LO4), i16x8.shl(v128.and(hv, i8x16.splat(0x0c)), 2));
  if (k == 2) return v128.or(hiNib(l), v128.and(hv, i8x16.splat(0x30)));
  return v128.or(hiNib(l), i16x8.shr_u(v128.and(hv, i8x16.splat(-64)), 2));
}

/** The i8 scale at p splatted to i16x8. */
@inline export function splatScale(p: usize): v128 {
  return i16x8.extend_low_i8x16_s(v128.load8_splat(p));
}

/** 32·Σ_g sc_g · (activation sum of group g) for one q6_k block, as i32x4 partial sums. */
@inline export function q6Offsets(sc: usize, s: usize): v128 {
  const v = v128.load(sc);
  const o = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), v128.load(s)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), v128.load(s + 16)));
  return i32x4.shl(o, 5);
}

@inline function q6Group(acc: v128, q: v128, a: usize, sc: usize): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q, v128.load(a)), splatScale(sc)));
}

// q6_k (qb 256): ql[128], qh[64], i8 scales[16], f16 d; value (q − 32)·sc·d per 16 values.
// Group (n, k, h) holds values n·128 + 32k + 16h .. +16 with scale sc[8n + 2k + h].
export function rowdotq_q6_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 210;
    const a = xq + (<usize>b << 8);
    let isum = i32x4.neg(q6Offsets(blk + 192, xs + (<usize>b << 5)));
    for (let n: usize = 0; n < 2; n++) {
      const ql = blk + n * 64;
      const sc = blk + 192 + n * 8;
      const an = a + n * 128;
      for (let h: usize = 0; h < 2; h++) {
        const l0 = v128.load(ql + h * 16);
        const l1 = v128.load(ql + 32 + h * 16);
        const hv = v128.load(blk + 128 + n * 32 + h * 16);
        const ah = an + h * 16;
        isum = q6Group(isum, q6Values(l0, hv, 0), ah, sc + h);
        isum = q6Group(isum, q6Values(l1, hv, 1), ah + 32, sc + h + 2);
        isum = q6Group(isum, q6Values(l0, hv, 2), ah + 64, sc + h + 4);
        isum = q6Group(isum, q6Values(l1, hv, 3), ah + 96, sc + h + 6);
      }
    }
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(load<f32>(xd + (<usize>b << 2)) * loadF16(blk + 208))));
  }
  return hsumF(acc);
}

export { rowdotq_q4_1, rowdotq_q5_0, rowdotq_q5_1, rowdotq_q5_k, rowdotq_q2_k, rowdotq_q3_k } from './formats-q8-more';
export { rowdotq_iq4_nl, rowdotq_iq4_xs } from './formats-iq4';
export { rowdotq_mlc_q4f16, rowdotq_mlc_q4f32 } from './formats-mlc';
