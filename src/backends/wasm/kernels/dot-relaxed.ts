// Integer dot products, relaxed-SIMD build (scripts/build-wasm.mjs serves this file as ./dot when
// the engine may use relaxed SIMD; dot-plain.ts is the fallback with the same exports).
// Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 returns twice the dot from it (x64).

/** i16x8 of pair sums of products of w (bytes 0..127) and a (i8): |lane| ≤ 2·127·127, exact. */
@inline export function dot16(w: v128, a: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(a, w);
}
