// Shared by the two non-linear 4-bit formats (iq4_nl, iq4_xs): the 16-entry value table and the
// per-32-value scale search of llama.cpp's quantize_row_iq4_nl_impl, without an importance matrix
// (weights x²), in f32 arithmetic so that every near-tie resolves as in llama.cpp.

/** kvalues_iq4nl: the signed levels a nibble indexes (ggml-common.h). */
export const IQ4_VALUES: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

const f = Math.fround;
const V = Int8Array.from(IQ4_VALUES);
const GROUP_MAX_EPS = 1e-15;
/** llama-quantize calls quantize_iq4_nl / quantize_iq4_xs with ntry = 7 (the _ref rows use −1). */
const NTRY = 7;

/** best_index_int8: the level nearest to x (ties to the upper one); x is an f32. */
export function iq4Index(x: number): number {
  if (x <= V[0]) return 0;
  if (x >= V[15]) return 15;
  let ml = 0;
  let mu = 15;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < V[mav]) mu = mav;
    else ml = mav;
  }
  return f(x - V[mu - 1]) < f(V[mu] - x) ? mu - 1 : mu;
}

/** Σ w·q·x and Σ w·q² (w = x²) of the levels of f32(id·x), as C accumulates them in float. */
function trial(x: Float32Array, xo: number, w: Float32Array, id: number, out: Float64Array): void {
  let sumqx = 0;
  let sumq2 = 0;
  for (let j = 0; j < 32; j++) {
    const xj = x[xo + j];
    const q = V[iq4Index(f(id * xj))];
    const wq = f(w[j] * q);
    sumqx = f(sumqx + f(wq * xj));
    sumq2 = f(sumq2 + f(wq * q));
  }
  out[0] = sumqx;
  out[1] = sumq2;
}

/** Buffers of iq4Scale, allocated once per quantize call. */
export class IQ4Scratch {
  readonly w = new Float32Array(32);
  readonly sums = new Float64Array(2);
}

/**
 * The best scale of 32 values x[xo..xo+32) (0 when all are ~0): a first fit from the value of largest
 * magnitude mapped to −127, then 2·NTRY + 1 trial inverse scales around it; the winner maximizes
 * (Σwqx)²/Σwq². (C also keeps the first fit's levels, but both callers re-derive every level.)
 */
export function iq4Scale(x: Float32Array, xo: number, s: IQ4Scratch): number {
  const w = s.w;
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const xj = x[xo + j];
    w[j] = f(xj * xj);
    const ax = Math.abs(xj);
    if (ax > amax) {
      amax = ax;
      max = xj;
    }
  }
  if (amax < GROUP_MAX_EPS) return 0;
  const sums = s.sums;
  trial(x, xo, w, f(1 / f(-max / V[0])), sums);
  let d = sums[1] > 0 ? f(sums[0] / sums[1]) : 0;
  let best = f(d * sums[0]);
  for (let itry = -NTRY; itry <= NTRY; itry++) {
    trial(x, xo, w, f((itry + V[0]) / max), sums);
    const [sumqx, sumq2] = sums;
    if (sumq2 > 0 && f(sumqx * sumqx) > f(best * sumq2)) {
      d = f(sumqx / sumq2);
      best = f(d * sumqx);
    }
  }
  return d;
}

/** Levels of f32(id·x) for n values. */
export function iq4Levels(x: Float32Array, xo: number, n: number, id: number, L: Uint8Array, lo: number): void {
  for (let j = 0; j < n; j++) L[lo + j] = iq4Index(f(id * x[xo + j]));
}

/** Nibbles of n levels: per 32, byte j holds level j (low) and level j + 16 (high). */
export function packIQ4(L: Uint8Array, n: number, dst: Uint8Array, o: number): void {
  for (let i = 0; i < n / 32; i++) {
    for (let j = 0; j < 16; j++) dst[o + 16 * i + j] = L[32 * i + j] | (L[32 * i + 16 + j] << 4);
  }
}
