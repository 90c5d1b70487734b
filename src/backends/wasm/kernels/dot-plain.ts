// Integer dot products, plain-SIMD fallback of dot-relaxed.ts (same exports, same results).

/** acc (i32x4) += the sums of products of w (bytes 0..127) and a (i8), grouped in 4 lanes; exact. */
@inline export function dotU7(acc: v128, w: v128, a: v128): v128 {
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w), i16x8.extend_low_i8x16_s(a));
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w), i16x8.extend_high_i8x16_s(a));
  return i32x4.add(acc, i32x4.add(lo, hi));
}
