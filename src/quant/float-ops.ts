// f32 arithmetic helpers for the reference quantizers. llama.cpp computes in single precision;
// to make the same rounding decisions (and so write the same bytes) every intermediate result
// is rounded to f32 with `f` exactly where C would round it.

export const f = Math.fround;

/** ggml's nearest_int: adds 1.5·2^23 in f32, i.e. round half to even (valid for |v| < 2^22). */
export function nearestInt(v: number): number {
  return (f(v + 12582912) - 12582912) | 0;
}

/** C roundf: half away from zero. */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** The value of largest magnitude among x[xo..xo+n), the first one on ties (0 when all are 0). */
export function largestMagnitude(x: ArrayLike<number>, xo: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  return max;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
