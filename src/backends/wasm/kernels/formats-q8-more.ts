// Integer-path snippets (see formats-q8.ts) for the formats beyond q8_0/q4_0/q4_k/q6_k: q4_1, q5_0,
// q5_1, q5_k, q2_k, q3_k. Weight values are multiplied as unsigned (≤ 31, so i16 pair sums of two
// dot16 results cannot overflow); offsets and mins come off with the activation sums. Only q5_k
// has a four-token version (formats-q8x4.ts); prefill batches of the others take the f32 path.
import { loadF16 } from './common';
import { dot16 } from './dot';
import { q5HighBits } from './formats';
import { LO4, dotScaled2, dotU7, hiNib, hsumF, kFinish, kMinSums, kScalesMins, sum16 } from './formats-q8';

/** Sum of the 32 activations of block b (two 16-value sums). */
@inline function sum32(xs: usize, b: i32): f32 {
  return <f32>(sum16(xs, <usize>(2 * b)) + sum16(xs, <usize>(2 * b + 1)));
}

/** Σ q·a over a 32-value block: lo (values 0..15) and hi (16..31) against the activations at a. */
@inline function dot32(lo: v128, hi: v128, a: usize): v128 {
  return f32x4.convert_i32x4_s(dotU7(dotU7(i32x4.splat(0), lo, v128.load(a)), hi, v128.load(a + 16)));
}

/**
 * Dot of nb 32-value blocks of TS bytes with one token: per block d·xd·Σq·a + c·xd·Σa, where the
 * quant bytes sit at QS (qh u32 at QH when QH ≥ 0: the 5th bit), c = m (f16 at 2) when HAS_MIN,
 * else −off·d.
 */
@inline function rowdot32(w: usize, xq: usize, xd: usize, xs: usize, nb: i32, TS: usize, QS: usize, QH: i32,
  hasMin: bool, off: f32): f32 {
  let acc = f32x4.splat(0);
  let corr: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * TS;
    const q = v128.load(blk + QS);
    let lo = v128.and(q, LO4);
    let hi = hiNib(q);
    if (QH >= 0) {
      const qh = load<u32>(blk + <usize>QH);
      lo = v128.or(lo, q5HighBits(qh, 0));
      hi = v128.or(hi, q5HighBits(qh, 1));
    }
    const x = load<f32>(xd + (<usize>b << 2));
    const s = loadF16(blk) * x;
    acc = f32x4.add(acc, f32x4.mul(dot32(lo, hi, xq + (<usize>b << 5)), f32x4.splat(s)));
    corr += (hasMin ? loadF16(blk + 2) * x : -off * s) * sum32(xs, b);
  }
  return hsumF(acc) + corr;
}

// q4_1 (qb 32): f16 d, f16 m, qs[16]; value q·d + m
export function rowdotq_q4_1(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  return rowdot32(w, xq, xd, xs, nb, 20, 4, -1, true, 0);
}

// q5_0 (qb 32): f16 d, u32 qh, qs[16]; value (q − 16)·d
export function rowdotq_q5_0(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  return rowdot32(w, xq, xd, xs, nb, 22, 6, 2, false, 16);
}

// q5_1 (qb 32): f16 d, f16 m, u32 qh, qs[16]; value q·d + m
export function rowdotq_q5_1(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  return rowdot32(w, xq, xd, xs, nb, 24, 8, 4, true, 0);
}

/** Bit k of every byte of v as 0 or `to` (a power of two ≤ 64), by i16 shifts (no i8x16 shifts). */
@inline export function bitAs(v: v128, k: i32, toShift: i32): v128 {
  return i16x8.shl(v128.and(i16x8.shr_u(v, k), i8x16.splat(1)), toShift);
}

/** 64 values of q5_k chunk c: nibbles of 32 bytes at q plus qh bits 2c (low) and 2c + 1 (high) as 16. */
@inline function q5kChunk(acc: v128, q: usize, h0: v128, h1: v128, c: i32, a: usize, sl: v128, sh: v128): v128 {
  const q0 = v128.load(q);
  const q1 = v128.load(q + 16);
  acc = dotScaled2(acc, v128.or(v128.and(q0, LO4), bitAs(h0, 2 * c, 4)), v128.load(a),
    v128.or(v128.and(q1, LO4), bitAs(h1, 2 * c, 4)), v128.load(a + 16), sl);
  return dotScaled2(acc, v128.or(hiNib(q0), bitAs(h0, 2 * c + 1, 4)), v128.load(a + 32),
    v128.or(hiNib(q1), bitAs(h1, 2 * c + 1, 4)), v128.load(a + 48), sh);
}

/** Σ sc_j · (sub-block j · activations) over one q5_k block, scales s16 as i16 (i32x4 partial sums). */
@inline export function q5kBlock(blk: usize, a: usize, s16: v128): v128 {
  const h0 = v128.load(blk + 16);
  const h1 = v128.load(blk + 32);
  let acc = q5kChunk(i32x4.splat(0), blk + 48, h0, h1, 0, a, i16x8.shuffle(s16, s16, 0, 0, 0, 0, 0, 0, 0, 0),
    i16x8.shuffle(s16, s16, 1, 1, 1, 1, 1, 1, 1, 1));
  acc = q5kChunk(acc, blk + 80, h0, h1, 1, a + 64, i16x8.shuffle(s16, s16, 2, 2, 2, 2, 2, 2, 2, 2),
    i16x8.shuffle(s16, s16, 3, 3, 3, 3, 3, 3, 3, 3));
  acc = q5kChunk(acc, blk + 112, h0, h1, 2, a + 128, i16x8.shuffle(s16, s16, 4, 4, 4, 4, 4, 4, 4, 4),
    i16x8.shuffle(s16, s16, 5, 5, 5, 5, 5, 5, 5, 5));
  return q5kChunk(acc, blk + 144, h0, h1, 3, a + 192, i16x8.shuffle(s16, s16, 6, 6, 6, 6, 6, 6, 6, 6),
    i16x8.shuffle(s16, s16, 7, 7, 7, 7, 7, 7, 7, 7));
}

// q5_k (qb 256): f16 d, f16 dmin, scales[12], qh[32], qs[128]; sub-block j: sc_j·d·q − m_j·dmin
export function rowdotq_q5_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 176;
    const sm = kScalesMins(blk + 4);
    const isum = q5kBlock(blk, xq + (<usize>b << 8), i16x8.extend_low_i8x16_u(sm));
    const msum = kMinSums(i16x8.extend_high_i8x16_u(sm), xs + (<usize>b << 5));
    acc = f32x4.add(acc, kFinish(isum, msum, loadF16(blk), loadF16(blk + 2), load<f32>(xd + (<usize>b << 2))));
  }
  return hsumF(acc);
}

@inline function scaledGroup(acc: v128, q: v128, a: usize, sc: i32): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q, v128.load(a)), i16x8.splat(<i16>sc)));
}

// q2_k (qb 256): scales[16] (low nibble scale, high nibble min), qs[64], f16 d, f16 dmin. Group
// g = 8n + 2j + h (values 16g..) is bits 2j of qs byte 32n + 16h + l; value sc_g·d·q − m_g·dmin.
export function rowdotq_q2_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  const three = i8x16.splat(3);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 84;
    const a = xq + (<usize>b << 8);
    const s = xs + (<usize>b << 5);
    const mins = hiNib(v128.load(blk));
    const msum = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mins), v128.load(s)),
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mins), v128.load(s + 16)));
    let isum = i32x4.splat(0);
    for (let g: usize = 0; g < 16; g++) {
      const qv = v128.load(blk + 16 + (g >> 3) * 32 + (g & 1) * 16);
      const q = v128.and(i16x8.shr_u(qv, <i32>(g & 6)), three);
      isum = scaledGroup(isum, q, a + (g << 4), <i32>(load<u8>(blk + g) & 15));
    }
    acc = f32x4.add(acc, kFinish(isum, msum, loadF16(blk + 80), loadF16(blk + 82), load<f32>(xd + (<usize>b << 2))));
  }
  return hsumF(acc);
}

/** 6-bit signed scale g (0..15) of a q3_k block: 4 low bits + 2 high bits, minus 32. */
@inline function q3Scale(sc: usize, g: usize): i32 {
  const lo = g < 8 ? <u32>load<u8>(sc + g) & 0xf : <u32>load<u8>(sc + g - 8) >> 4;
  const hi = (<u32>load<u8>(sc + 8 + (g & 3)) >> <u32>(2 * (g >> 2))) & 3;
  return <i32>(lo | (hi << 4)) - 32;
}

// q3_k (qb 256): hmask[32], qs[64], scales[12], f16 d. Group g = 8n + 2j + h: 2 bits (shift 2j)
// of qs byte 32n + 16h + l, plus 4 when hmask byte 16h + l has bit 4n + j; value sc_g·d·(u − 4).
export function rowdotq_q3_k(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  const three = i8x16.splat(3);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 110;
    const a = xq + (<usize>b << 8);
    const s = xs + (<usize>b << 5);
    let isum = i32x4.splat(0);
    let off = 0;
    for (let g: usize = 0; g < 16; g++) {
      const h = (g & 1) * 16;
      const n = g >> 3;
      const j = <i32>((g >> 1) & 3);
      const q2 = v128.and(i16x8.shr_u(v128.load(blk + 32 + n * 32 + h), 2 * j), three);
      const u = v128.or(q2, bitAs(v128.load(blk + h), <i32>(4 * n) + j, 2));
      const sc = q3Scale(blk + 96, g);
      isum = scaledGroup(isum, u, a + (g << 4), sc);
      off += sc * sum16(s, g); // four lanes each take it off: −4·Σ sc·sum
    }
    const x = load<f32>(xd + (<usize>b << 2)) * loadF16(blk + 108);
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(isum, i32x4.splat(off))), f32x4.splat(x)));
  }
  return hsumF(acc);
}

