// Integer dot products, relaxed-SIMD build (scripts/build-wasm.mjs serves this file as ./dot when
// the engine may use relaxed SIMD; dot-plain.ts is the fallback with the same exports).

/**
 * acc (i32x4) += the sums of 4 neighbouring products of w (bytes 0..127) and a (i8); exact, as
 * pair sums reach at most 2·127·127 < 2^15. Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8
 * returns twice the dot from it (x64); on x64 both lower to pmaddubsw + pmaddwd anyway.
 */
@inline export function dotU7(acc: v128, w: v128, a: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, w)));
}
