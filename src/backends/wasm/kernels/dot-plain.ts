// Integer dot products, plain-SIMD fallback of dot-relaxed.ts (same exports, same sums).

/** Not here: the byte widenings already load x64's shuffle units, and the lane shuffles of the
 *  gathered sums made the q8_0 tile ~15% slower (measured); see formats-q8x4.ts. */
export const TILE_LANE_SUMS: bool = false;

/** i16x8 of sums of two products of w (bytes 0..127) and a (i8): |lane| ≤ 2·127·127, exact. */
@inline export function dot16(w: v128, a: v128): v128 {
  return i16x8.add(i16x8.extmul_low_i8x16_s(w, a), i16x8.extmul_high_i8x16_s(w, a));
}

/** acc (i32x4) + Σ w·a over 16 signed bytes (|a| ≤ 127), as partial sums: bytes widened to i16, then pmaddwd. */
@inline export function dotSS(acc: v128, w: v128, a: v128): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), i16x8.extend_low_i8x16_s(a)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), i16x8.extend_high_i8x16_s(a)));
}

/**
 * i16x8 of pair sums of v·a, v = the signed table entry at each byte index idx (0..15); the table
 * comes as magnitudes `mag` (≤ 127) and sign masks `neg` (−1 where negative), as dot-relaxed.ts
 * wants it. Here the signed table (a constant when mag and neg are) is looked up directly.
 */
@inline export function dot16Lookup(mag: v128, neg: v128, idx: v128, a: v128): v128 {
  const w = i8x16.swizzle(i8x16.sub(v128.xor(mag, neg), neg), idx);
  return i16x8.add(i16x8.extmul_low_i8x16_s(w, a), i16x8.extmul_high_i8x16_s(w, a));
}

/** acc (i32x4) + Σ v·a over 16 values, v looked up as in dot16Lookup (as partial sums, via dotSS). */
@inline export function dotLookup(acc: v128, mag: v128, neg: v128, idx: v128, a: v128): v128 {
  return dotSS(acc, i8x16.swizzle(i8x16.sub(v128.xor(mag, neg), neg), idx), a);
}

/** Σ w0·a0 + Σ w1·a1 over 16 signed bytes each, as i32x4 partial sums (dotSS twice without an accumulator; `ones` is for dot-relaxed.ts). */
@inline export function dotSS2(w0: v128, a0: v128, w1: v128, a1: v128, _ones: v128): v128 {
  const acc = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), i16x8.extend_low_i8x16_s(a0)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), i16x8.extend_high_i8x16_s(a0)));
  return dotSS(acc, w1, a1);
}
