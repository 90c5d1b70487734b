// The scale searches behind llama.cpp's reference (non-imatrix) K-quantizers
// (make_qx_quants with rmse_type 1, make_q3_quants, make_qkx2_quants), in f32 arithmetic
// so that ties and near-ties resolve as they do in llama.cpp. Each works on `n` values of `x`
// from `xo` and writes quant levels to `L` from `lo`.

import { clamp, f, nearestInt } from './float-ops.ts';

const GROUP_MAX_EPS = 1e-15;

/** Index of the value of largest magnitude (first one on ties), or −1 if all are ~0. */
function signedMax(x: Float32Array, xo: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  return amax < GROUP_MAX_EPS ? 0 : max;
}

/** Symmetric levels in [−nmax, nmax−1] stored +nmax; weighted (w = x²) least-squares scale,
 *  best over 19 trial inverse scales. Returns the scale (0 for an all-zero group). */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number): number {
  const max = signedMax(x, xo, n);
  if (max === 0) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  const trial = (iscale: number, store: boolean): [number, number] => {
    let sumlx = 0;
    let suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
      if (store) L[lo + i] = l + nmax;
      const w = f(xi * xi);
      sumlx = f(sumlx + f(f(w * xi) * l));
      suml2 = f(suml2 + f(f(w * l) * l));
    }
    return [sumlx, suml2];
  };
  let [sumlx, suml2] = trial(f(-nmax / max), true);
  let scale = suml2 ? f(sumlx / suml2) : 0;
  let best = f(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    const iscale = f(-f(nmax + f(f(0.1) * is)) / max);
    [sumlx, suml2] = trial(iscale, false);
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      trial(iscale, true);
      scale = f(sumlx / suml2);
      best = f(scale * sumlx);
    }
  }
  return scale;
}

/** Levels in [−nmax, nmax−1] stored +nmax, refined one value at a time to maximise the
 *  x²-weighted fit (make_q3_quants with do_rmse). Returns the scale. */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number): number {
  const max = signedMax(x, xo, n);
  if (max === 0) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  const iscale = f(-nmax / max);
  const l8 = new Int8Array(n);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
    l8[i] = l;
    const w = f(xi * xi);
    sumlx = f(sumlx + f(f(w * xi) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const w = f(xi * xi);
      let slx = f(sumlx - f(f(w * xi) * l8[i]));
      if (!(slx > 0)) continue;
      let sl2 = f(suml2 - f(f(w * l8[i]) * l8[i]));
      const nl = clamp(nearestInt(f(f(xi * sl2) / slx)), -nmax, nmax - 1);
      if (nl === l8[i]) continue;
      slx = f(slx + f(f(w * xi) * nl));
      sl2 = f(sl2 + f(f(w * nl) * nl));
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

/** Asymmetric levels in [0, nmax] with x ≈ scale·L − min (min ≥ 0), weighted fit over nstep+1
 *  trial scales. Returns [scale, min]. `w` are the n weights, `aux` scratch of n bytes. */
export function makeQkx2Quants(
  n: number, x: Float32Array, xo: number, w: Float32Array, L: Uint8Array, lo: number, aux: Uint8Array, p: Qkx2Params,
): [number, number] {
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
    return [0, -min];
  }
  const err = (scale: number, mn: number, levels: Uint8Array, o: number): number => {
    let e = 0;
    for (let i = 0; i < n; i++) {
      let diff = f(f(f(scale * levels[o + i]) + mn) - x[xo + i]);
      diff = p.useMad ? Math.abs(diff) : f(diff * diff);
      e = f(e + f(w[i] * diff));
    }
    return e;
  };
  // `min` moves to the best fit found so far, and later trials scale from it (as llama.cpp does).
  let iscale = f(p.nmax / f(max - min));
  let scale = f(1 / iscale);
  for (let i = 0; i < n; i++) L[lo + i] = clamp(nearestInt(f(iscale * f(x[xo + i] - min))), 0, p.nmax);
  let bestError = err(scale, min, L, lo);
  for (let is = 0; is <= p.nstep; is++) {
    iscale = f(f(f(p.rmin + f(p.rdelta * is)) + p.nmax) / f(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(f(iscale * f(x[xo + i] - min))), 0, p.nmax);
      aux[i] = l;
      const wl = f(w[i] * l);
      sumL = f(sumL + wl);
      sumL2 = f(sumL2 + f(wl * l));
      sumXL = f(sumXL + f(wl * x[xo + i]));
    }
    const D = f(f(sumW * sumL2) - f(sumL * sumL));
    if (!(D > 0)) continue;
    let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D);
    let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
    if (thisMin > 0) {
      thisMin = 0;
      thisScale = f(sumXL / sumL2);
    }
    const curError = err(thisScale, thisMin, aux, 0);
    if (curError < bestError) {
      L.set(aux.subarray(0, n), lo);
      bestError = curError;
      scale = thisScale;
      min = thisMin;
    }
  }
  return [scale, -min];
}
