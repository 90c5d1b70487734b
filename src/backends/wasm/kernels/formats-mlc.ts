// Snippets for our MLC-LLM blocks (src/quant/mlc_q4.ts): scale (f16 or f32) then 16 bytes of
// nibbles in MLC's order, byte j = element 2j (low nibble) and 2j + 1 (high); value (q − 7)·scale.
// Two byte shuffles put the nibbles in element order; the rest is q4_0's path (formats.ts,
// formats-q8.ts), the offset 7 taken off with the activation sums.
import { loadF16 } from './common';
import { LO4, dotU7, hiNib, hsumF, hsumI, scales4, sum16, sum4 } from './formats-q8';

/** Elements 0..15 and 16..31 of a block's nibbles as bytes 0..15, from the 16 bytes at q. */
@inline function lowHalf(q: v128): v128 {
  return i8x16.shuffle(v128.and(q, LO4), hiNib(q), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
@inline function highHalf(q: v128): v128 {
  return i8x16.shuffle(v128.and(q, LO4), hiNib(q), 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/** 16 bytes (0..15) → 16 f32 as (q − 7)·d. */
@inline function store16m(dst: usize, q: v128, d: f32): void {
  const dv = f32x4.splat(d);
  const s = i8x16.sub(q, i8x16.splat(7));
  const lo = i16x8.extend_low_i8x16_s(s);
  const hi = i16x8.extend_high_i8x16_s(s);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), dv));
  v128.store(dst + 16, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), dv));
  v128.store(dst + 32, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), dv));
  v128.store(dst + 48, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), dv));
}

@inline export function deqBlock_mlc_q4f16(src: usize, dst: usize): void {
  const d = loadF16(src);
  const q = v128.load(src + 2);
  store16m(dst, lowHalf(q), d);
  store16m(dst + 64, highHalf(q), d);
}

@inline export function deqBlock_mlc_q4f32(src: usize, dst: usize): void {
  const d = load<f32>(src);
  const q = v128.load(src + 4);
  store16m(dst, lowHalf(q), d);
  store16m(dst + 64, highHalf(q), d);
}

/** Σ q·a over one block's nibbles at qs and 32 activation bytes at a (i32x4 partial sums). */
@inline function mlcBlock(qs: usize, a: usize): v128 {
  const q = v128.load(qs);
  return dotU7(dotU7(i32x4.splat(0), lowHalf(q), v128.load(a)), highHalf(q), v128.load(a + 16));
}

/** Four f32 scales at blk, blk + size, … as f32x4. */
@inline function scales4f32(blk: usize, size: usize): v128 {
  let v = f32x4.splat(0);
  v = v128.load32_lane(blk, v, 0);
  v = v128.load32_lane(blk + size, v, 1);
  v = v128.load32_lane(blk + 2 * size, v, 2);
  return v128.load32_lane(blk + 3 * size, v, 3);
}

/** As rowdotq_q4_0 (qb 32): four blocks per step, the −7 taken off with the activation sums. */
@inline function rowdotMlc(w: usize, xq: usize, xd: usize, xs: usize, nb: i32, ts: usize, f32Scale: bool): f32 {
  const qo: usize = ts - 16;
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const blk = w + <usize>b * ts;
    const a = xq + (<usize>b << 5);
    const p = sum4(mlcBlock(blk + qo, a), mlcBlock(blk + ts + qo, a + 32), mlcBlock(blk + 2 * ts + qo, a + 64),
      mlcBlock(blk + 3 * ts + qo, a + 96));
    const sums = i32x4.extadd_pairwise_i16x8_s(v128.load(xs + (<usize>b << 2)));
    const sc = f32Scale ? scales4f32(blk, ts) : scales4(blk, ts);
    const s = f32x4.mul(sc, v128.load(xd + (<usize>b << 2)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(p, i32x4.mul(sums, i32x4.splat(7)))), s));
  }
  let tail: f32 = 0;
  for (; b < nb; b++) {
    const blk = w + <usize>b * ts;
    const p = hsumI(mlcBlock(blk + qo, xq + (<usize>b << 5))) - 7 * (sum16(xs, 2 * b) + sum16(xs, 2 * b + 1));
    tail += <f32>p * (f32Scale ? load<f32>(blk) : loadF16(blk)) * load<f32>(xd + (<usize>b << 2));
  }
  return hsumF(acc) + tail;
}

export function rowdotq_mlc_q4f16(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  return rowdotMlc(w, xq, xd, xs, nb, 18, false);
}

export function rowdotq_mlc_q4f32(w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  return rowdotMlc(w, xq, xd, xs, nb, 20, true);
}
