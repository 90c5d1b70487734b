// (cos, sin) of the rotary angles per (token, frequency), computed in f64 like the CPU path so
// that positions in the thousands keep their precision; the GPU only applies the rotation.
import type { RopeParams } from '../backend.ts';

/** [nTokens][nRot/2] pairs (cos θ, sin θ) · attnFactor, θ = (pos0 + t) · base^(−2i/nRot) / freqFactors[i]. */
export function ropeTable(pos0: number, nTokens: number, p: RopeParams): Float32Array {
  const half = p.nRot / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.pow(p.freqBase, (-2 * i) / p.nRot) / (p.freqFactors?.[i] ?? 1);
  const m = p.attnFactor ?? 1;
  const out = new Float32Array(nTokens * half * 2);
  for (let t = 0; t < nTokens; t++) {
    for (let i = 0; i < half; i++) {
      const theta = (pos0 + t) * inv[i];
      out[2 * (t * half + i)] = Math.cos(theta) * m;
      out[2 * (t * half + i) + 1] = Math.sin(theta) * m;
    }
  }
  return out;
}
