// Turns a family's declarations (arch.ts) and the file's hyper-parameters into what each layer
// does: its rope (or none), its attention window, scale and soft-cap, and its KV ring size. The
// decoder only follows this plan, so it never needs to know which family it runs.
import type { AttentionParams, RopeParams } from '../backends/backend.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';

export interface LayerPlan {
  /** null: this layer has no positional encoding (NoPE) */
  readonly rope: RopeParams | null;
  readonly attn: AttentionParams;
  /** KV ring capacity in positions: the context, or window + batch − 1 on a sliding layer */
  readonly slots: number;
}

export interface ModelPlan {
  readonly layers: readonly LayerPlan[];
  /** multiplies the embedded tokens (√dim for Gemma, else 1) */
  readonly embedScale: number;
  /** final logit soft-cap, 0 = none */
  readonly finalSoftcap: number;
}

/** Rope frequency divisors found in the file. */
export interface RopeFactorTensors {
  /** llama3-style `rope_freqs` */
  readonly freqs?: Float32Array;
  /** Phi-3 longrope: `rope_factors_long` / `rope_factors_short` */
  readonly long?: Float32Array;
  readonly short?: Float32Array;
}

export function slidingLayers(h: HParams, arch: ArchSpec): { window: number; sliding: boolean[] } {
  const sw = arch.slidingWindow;
  const window = h.slidingWindow ?? sw?.defaultWindow ?? 0;
  if (!sw || window <= 0) return { window: 0, sliding: new Array<boolean>(h.nLayers).fill(false) };
  const p = h.slidingWindowPattern ?? sw.pattern;
  // as llama.cpp's set_swa_pattern: 0 = every layer slides, n = the last of every n is global
  const sliding = Array.isArray(p) ? p : Array.from({ length: h.nLayers }, (_, l) => p === 0 || l % p < p - 1);
  return { window, sliding };
}

/**
 * YaRN as per-frequency divisors (angles stay linear in the position): frequency i is interpolated
 * by 1/factor below the correction range, kept above it, and blended by a linear ramp inside,
 * with llama.cpp's defaults (beta_fast 32, beta_slow 1, ext_factor 1). Its magnitude correction
 * (1 + 0.1 ln factor) goes into the rope's attention factor.
 */
export function yarnDivisors(nRot: number, base: number, nCtxOrig: number, factor: number): Float32Array {
  const corr = (beta: number) => (nRot * Math.log(nCtxOrig / (beta * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(0, Math.floor(corr(32)));
  const high = Math.min(nRot - 1, Math.ceil(corr(1)));
  const scale = 1 / factor;
  return Float32Array.from({ length: nRot / 2 }, (_, i) => {
    const ramp = 1 - Math.min(1, Math.max(0, (i - low) / Math.max(0.001, high - low)));
    return 1 / (scale * (1 - ramp) + ramp);
  });
}

export function planModel(h: HParams, arch: ArchSpec, factors: RopeFactorTensors, nCtx: number, maxBatch: number): ModelPlan {
  const { window, sliding } = slidingLayers(h, arch);
  const scale = arch.attentionScale?.(h) ?? 1 / Math.sqrt(h.headDim);
  const softcaps = arch.defaultSoftcaps;
  const attnSoftcap = softcaps ? h.attnSoftcap ?? softcaps.attention : 0;
  // longrope: the long factors once the context goes past the original training length
  const longrope = factors.long && factors.short ? (nCtx > h.nCtxOrig ? factors.long : factors.short) : undefined;
  const ropeFor = (swa: boolean): RopeParams => {
    const swaOwn = swa && arch.slidingWindow?.defaultRopeBase !== 'global';
    const base = swa ? h.ropeBaseSwa ?? (swaOwn ? arch.slidingWindow!.defaultRopeBase as number : h.ropeBase) : h.ropeBase;
    // sliding layers with a rope base of their own are not scaled (llama.cpp's freq_scale_swa = 1)
    const linear = swaOwn ? 1 : h.ropeLinearFactor;
    let ff = factors.freqs ?? longrope;
    if (linear !== 1) ff = (ff ?? new Float32Array(h.nRot / 2).fill(1)).map((f) => f * linear);
    let attnFactor = h.ropeAttnFactor;
    if (h.ropeScalingType === 'yarn' && h.ropeScalingFactor > 1 && !swaOwn) {
      const y = yarnDivisors(h.nRot, base, h.nCtxOrig, h.ropeScalingFactor);
      ff = (ff ?? new Float32Array(h.nRot / 2).fill(1)).map((f, i) => f * y[i]);
      attnFactor *= 1 + 0.1 * Math.log(h.ropeScalingFactor);
    }
    return { nRot: h.nRot, freqBase: base, neox: arch.ropeNeox, freqFactors: ff, attnFactor };
  };
  // one params object per kind of layer: the backends cache their rope tables by it
  const ropes = { sliding: sliding.some(Boolean) ? ropeFor(true) : null, global: ropeFor(false) };
  const layers = Array.from({ length: h.nLayers }, (_, l): LayerPlan => {
    const swa = sliding[l];
    const noRope = arch.noRopeEvery !== undefined && (l + 1) % arch.noRopeEvery === 0;
    return {
      rope: noRope ? null : swa ? ropes.sliding : ropes.global,
      attn: { nHead: h.nHead, nHeadKV: h.nHeadKV, headDim: h.headDim, scale, window: swa ? window : 0, softcap: attnSoftcap },
      slots: swa ? Math.min(nCtx, window + maxBatch - 1) : nCtx,
    };
  });
  return {
    layers,
    embedScale: arch.embedScaleSqrtDim ? Math.fround(Math.sqrt(h.dim)) : 1,
    finalSoftcap: softcaps ? h.finalSoftcap ?? softcaps.final : 0,
  };
}
