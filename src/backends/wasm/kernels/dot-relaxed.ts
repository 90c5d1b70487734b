// Integer dot products, relaxed-SIMD build (scripts/build-wasm.mjs serves this file as ./dot when
// the engine may use relaxed SIMD; dot-plain.ts is the fallback with the same exports).
// Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 returns twice the dot from it (x64).

/** The four-token q8_0 tile gathers each block's four token sums into one vector (formats-q8x4.ts):
 *  worth its lane shuffles here, where the dot itself needs none. */
export const TILE_LANE_SUMS: bool = true;

/** i16x8 of pair sums of products of w (bytes 0..127) and a (i8): |lane| ≤ 2·127·127, exact. */
@inline export function dot16(w: v128, a: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(a, w);
}

/**
 * acc (i32x4) + Σ w·a over 16 signed bytes (|a| ≤ 127), as partial sums. The 7-bit dot wants one
 * operand non-negative, so w's sign moves onto a (a xor m − m negates where m = −1): 5 instructions
 * on x64 (pmaddubsw) instead of four widenings and two pmaddwd. w = −128 (never written by a q8_0
 * quantizer, |q| ≤ 127) is still exact where the 7-bit operand is read unsigned (x64).
 */
@inline export function dotSS(acc: v128, w: v128, a: v128): v128 {
  const m = i8x16.lt_s(w, i8x16.splat(0));
  const signed = i8x16.sub(v128.xor(a, m), m);
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(signed, i8x16.abs(w))));
}

/**
 * i16x8 of pair sums of v·a, v = the signed table entry at each byte index idx (0..15): its
 * magnitude from `mag` (≤ 127) is the 7-bit operand, its sign mask from `neg` (−1 where negative)
 * moves onto a, as in dotSS. Indices stay below 16, so relaxed_swizzle is exact (and skips x64's
 * index fix-up); |lane| ≤ 2·127·127, so the saturating pmaddubsw stays exact too.
 */
@inline export function dot16Lookup(mag: v128, neg: v128, idx: v128, a: v128): v128 {
  const m = i8x16.relaxed_swizzle(neg, idx);
  return i16x8.relaxed_dot_i8x16_i7x16_s(i8x16.sub(v128.xor(a, m), m), i8x16.relaxed_swizzle(mag, idx));
}

/** acc (i32x4) + Σ v·a over 16 values, v looked up as in dot16Lookup (as partial sums). */
@inline export function dotLookup(acc: v128, mag: v128, neg: v128, idx: v128, a: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(dot16Lookup(mag, neg, idx, a)));
}

/**
 * Σ w0·a0 + Σ w1·a1 over 16 signed bytes each (|a| ≤ 127), as i32x4 partial sums: dotSS twice
 * without an accumulator. The i16 pairs are added by pmaddwd with `ones` (i16x8 of 1) from the
 * caller's register: V8 lowers extadd_pairwise to a pmaddwd that materializes its constant's
 * address at every use.
 */
@inline export function dotSS2(w0: v128, a0: v128, w1: v128, a1: v128, ones: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(dotS16(w0, a0), ones), i32x4.dot_i16x8_s(dotS16(w1, a1), ones));
}

/** i16x8 of pair sums of w·a (w's sign moved onto a, as in dotSS). */
@inline function dotS16(w: v128, a: v128): v128 {
  const m = i8x16.lt_s(w, i8x16.splat(0));
  return i16x8.relaxed_dot_i8x16_i7x16_s(i8x16.sub(v128.xor(a, m), m), i8x16.abs(w));
}
