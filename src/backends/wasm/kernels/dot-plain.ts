// Integer dot products, plain-SIMD fallback of dot-relaxed.ts (same exports, same sums).

/** i16x8 of sums of two products of w (bytes 0..127) and a (i8): |lane| ≤ 2·127·127, exact. */
@inline export function dot16(w: v128, a: v128): v128 {
  return i16x8.add(i16x8.extmul_low_i8x16_s(w, a), i16x8.extmul_high_i8x16_s(w, a));
}
