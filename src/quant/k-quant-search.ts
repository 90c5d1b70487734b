// The scale searches behind llama.cpp's reference (non-imatrix) K-quantizers
// (make_qx_quants with rmse_type 1, make_q3_quants, make_qkx2_quants), in f32 arithmetic
// so that ties and near-ties resolve as they do in llama.cpp. Each works on `n` (≤ 32) values of
// `x` from `xo` and writes quant levels to `L` from `lo`.
//
// Speed without changing a single result: buffers come from a SearchScratch (no allocation per
// call), loop invariants (x − min, x², x³) are computed once, and a trial whose levels equal the
// previous trial's is skipped — every trial's outcome depends on its levels alone, and that outcome
// was already weighed. The error sum of make_qkx2 stops once it reaches the best error: its terms
// are ≥ 0 and f32 addition of a non-negative term never decreases a sum, so it could not win.

import { clamp, largestMagnitude, nearestInt } from './float-ops.ts';

// a local binding, not float-ops' export: V8 can then inline Math.fround in these hot loops
const f = Math.fround;

const GROUP_MAX_EPS = 1e-15;
const MAX_N = 32;

/** Reusable buffers and second results of the searches; one per quantize call. */
export class SearchScratch {
  /** x − min (make_qkx2) */
  readonly xm = new Float32Array(MAX_N);
  /** x² and x³ as f32 (the weights and weighted values of make_qx / make_q3) */
  readonly w = new Float32Array(MAX_N);
  readonly wx = new Float32Array(MAX_N);
  /** levels of the current and of the previous trial */
  cur = new Uint8Array(MAX_N);
  old = new Uint8Array(MAX_N);
  /** f32(f32(scale·l) + min) for every level l */
  readonly level = new Float32Array(64);
  readonly l8 = new Int8Array(MAX_N);
  /** makeQkx2Quants' second result: the min as a positive offset */
  min = 0;
  sumA = 0;
  sumB = 0;
}

/** The value of largest magnitude (first one on ties), or 0 if all are ~0. */
function signedMax(x: Float32Array, xo: number, n: number): number {
  const max = largestMagnitude(x, xo, n);
  return Math.abs(max) < GROUP_MAX_EPS ? 0 : max;
}

/** w = x², wx = x²·x, each rounded to f32 (the Float32Array stores round). */
function cubeWeights(x: Float32Array, xo: number, n: number, s: SearchScratch): void {
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const w = f(xi * xi);
    s.w[i] = w;
    s.wx[i] = w * xi;
  }
}

/** Symmetric levels l+nmax of round(iscale·x) into `dst`; true if they differ from `ref`. */
function symLevels(x: Float32Array, xo: number, n: number, iscale: number, nmax: number, dst: Uint8Array, ref: Uint8Array): boolean {
  let differs = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(f(iscale * x[xo + i])), -nmax, nmax - 1) + nmax;
    differs |= l ^ ref[i];
    dst[i] = l;
  }
  return differs !== 0;
}

/** Σ w·x·l and Σ w·l² of levels `lv` (stored +nmax), into s.sumA / s.sumB. */
function symSums(n: number, nmax: number, lv: Uint8Array, s: SearchScratch): void {
  const w = s.w;
  const wx = s.wx;
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const l = lv[i] - nmax;
    sumlx = f(sumlx + f(wx[i] * l));
    suml2 = f(suml2 + f(f(w[i] * l) * l));
  }
  s.sumA = sumlx;
  s.sumB = suml2;
}

/** Symmetric levels in [−nmax, nmax−1] stored +nmax; weighted (w = x²) least-squares scale,
 *  best over 19 trial inverse scales. Returns the scale (0 for an all-zero group). */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number,
  s: SearchScratch): number {
  const max = signedMax(x, xo, n);
  if (max === 0) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  cubeWeights(x, xo, n, s);
  let cur = s.cur;
  let old = s.old;
  symLevels(x, xo, n, f(-nmax / max), nmax, cur, old);
  symSums(n, nmax, cur, s);
  for (let i = 0; i < n; i++) L[lo + i] = cur[i];
  let scale = s.sumB ? f(s.sumA / s.sumB) : 0;
  let best = f(scale * s.sumA);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    const t = old;
    old = cur;
    cur = t;
    if (!symLevels(x, xo, n, f(-f(nmax + f(f(0.1) * is)) / max), nmax, cur, old)) continue;
    symSums(n, nmax, cur, s);
    const sumlx = s.sumA;
    const suml2 = s.sumB;
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      for (let i = 0; i < n; i++) L[lo + i] = cur[i];
      scale = f(sumlx / suml2);
      best = f(scale * sumlx);
    }
  }
  s.cur = cur;
  s.old = old;
  return scale;
}

/** Levels in [−nmax, nmax−1] stored +nmax, refined one value at a time to maximise the
 *  x²-weighted fit (make_q3_quants with do_rmse). Returns the scale. */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number,
  s: SearchScratch): number {
  const max = signedMax(x, xo, n);
  if (max === 0) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  cubeWeights(x, xo, n, s);
  const { w, wx, l8 } = s;
  symLevels(x, xo, n, f(-nmax / max), nmax, s.cur, s.old);
  symSums(n, nmax, s.cur, s);
  for (let i = 0; i < n; i++) l8[i] = s.cur[i] - nmax;
  let sumlx = s.sumA;
  let suml2 = s.sumB;
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const l = l8[i];
      let slx = f(sumlx - f(wx[i] * l));
      if (!(slx > 0)) continue;
      let sl2 = f(suml2 - f(f(w[i] * l) * l));
      const nl = clamp(nearestInt(f(f(x[xo + i] * sl2) / slx)), -nmax, nmax - 1);
      if (nl === l) continue;
      slx = f(slx + f(wx[i] * nl));
      sl2 = f(sl2 + f(f(w[i] * nl) * nl));
      if (sl2 > 0 && f(f(slx * slx) * suml2) > f(f(sumlx * sumlx) * sl2)) {
        l8[i] = nl;
        sumlx = slx;
        suml2 = sl2;
        changed++;
      }
    }
    if (!changed) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] = l8[i] + nmax;
  return suml2 > 0 ? f(sumlx / suml2) : 0;
}

/** Search parameters of make_qkx2_quants. */
export interface Qkx2Params {
  readonly nmax: number;
  readonly rmin: number;
  readonly rdelta: number;
  readonly nstep: number;
  /** minimise weighted |error| instead of weighted error² */
  readonly useMad: boolean;
}

/** Asymmetric levels of round(iscale·(x − min)) in [0, nmax] into `dst` from `o`; true if they differ from `ref`. */
function asymLevels(xm: Float32Array, n: number, iscale: number, nmax: number, dst: Uint8Array, o: number, ref: Uint8Array): boolean {
  let differs = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(f(iscale * xm[i])), 0, nmax);
    differs |= l ^ ref[i];
    dst[o + i] = l;
  }
  return differs !== 0;
}

/** Weighted least-squares scale and min (min ≤ 0) for levels `lv`, into s.sumA / s.sumB; false if degenerate. */
function asymFit(n: number, x: Float32Array, xo: number, w: Float32Array, lv: Uint8Array, sumW: number, sumX: number,
  s: SearchScratch): boolean {
  let sumL = 0;
  let sumL2 = 0;
  let sumXL = 0;
  for (let i = 0; i < n; i++) {
    const l = lv[i];
    const wl = f(w[i] * l);
    sumL = f(sumL + wl);
    sumL2 = f(sumL2 + f(wl * l));
    sumXL = f(sumXL + f(wl * x[xo + i]));
  }
  const D = f(f(sumW * sumL2) - f(sumL * sumL));
  if (!(D > 0)) return false;
  let scale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D);
  let min = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
  if (min > 0) {
    min = 0;
    scale = f(sumXL / sumL2);
  }
  s.sumA = scale;
  s.sumB = min;
  return true;
}

/** Weighted error (squared, or absolute with useMad) of levels `lv` from `o`; stops once ≥ `bound` (NaN: never). */
function asymError(n: number, x: Float32Array, xo: number, w: Float32Array, lv: Uint8Array, o: number,
  scale: number, min: number, p: Qkx2Params, bound: number, level: Float32Array): number {
  for (let l = 0; l <= p.nmax; l++) level[l] = f(f(scale * l) + min);
  let e = 0;
  if (p.useMad) {
    for (let i = 0; i < n && !(e >= bound); i++) e = f(e + f(w[i] * Math.abs(f(level[lv[o + i]] - x[xo + i]))));
  } else {
    for (let i = 0; i < n && !(e >= bound); i++) {
      const diff = f(level[lv[o + i]] - x[xo + i]);
      e = f(e + f(w[i] * f(diff * diff)));
    }
  }
  return e;
}

function offsetsFrom(x: Float32Array, xo: number, n: number, min: number, xm: Float32Array): void {
  for (let i = 0; i < n; i++) xm[i] = x[xo + i] - min;
}

/** Asymmetric levels in [0, nmax] with x ≈ scale·L − min (min ≥ 0), weighted fit over nstep+1
 *  trial scales. Returns the scale and leaves min in s.min. `w` are the n weights. */
export function makeQkx2Quants(n: number, x: Float32Array, xo: number, w: Float32Array, L: Uint8Array, lo: number,
  p: Qkx2Params, s: SearchScratch): number {
  let min = x[xo];
  let max = x[xo];
  let sumW = w[0];
  let sumX = f(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    sumW = f(sumW + w[i]);
    sumX = f(sumX + f(w[i] * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, lo, lo + n);
    s.min = -min;
    return 0;
  }
  // `min` moves to the best fit found so far, and later trials scale from it (as llama.cpp does).
  let iscale = f(p.nmax / f(max - min));
  let scale = f(1 / iscale);
  offsetsFrom(x, xo, n, min, s.xm);
  asymLevels(s.xm, n, iscale, p.nmax, L, lo, s.old);
  let bestError = asymError(n, x, xo, w, L, lo, scale, min, p, NaN, s.level);
  let cur = s.cur;
  let old = s.old;
  for (let is = 0; is <= p.nstep; is++) {
    iscale = f(f(f(p.rmin + f(p.rdelta * is)) + p.nmax) / f(max - min));
    const t = old;
    old = cur;
    cur = t;
    if (!asymLevels(s.xm, n, iscale, p.nmax, cur, 0, old) && is > 0) continue;
    if (!asymFit(n, x, xo, w, cur, sumW, sumX, s)) continue;
    const thisScale = s.sumA;
    const thisMin = s.sumB;
    const curError = asymError(n, x, xo, w, cur, 0, thisScale, thisMin, p, bestError, s.level);
    if (curError < bestError) {
      for (let i = 0; i < n; i++) L[lo + i] = cur[i];
      bestError = curError;
      scale = thisScale;
      min = thisMin;
      offsetsFrom(x, xo, n, min, s.xm);
    }
  }
  s.cur = cur;
  s.old = old;
  s.min = -min;
  return scale;
}
