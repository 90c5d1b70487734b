// Rope scaling from config.json, as convert_hf_to_gguf.py writes it: linear and yarn as metadata
// keys, llama3 as the generated `rope_freqs.weight` tensor (LlamaModel.generate_extra_tensors),
// Phi-3's longrope as `rope_factors_long/short.weight` plus an attention factor.
import type { GGUFValue } from '../gguf/reader.ts';
import { ropeType, type Config, type HFConfig, type RopeParams } from './config.ts';

/** A tensor convert_hf_to_gguf.py adds that no safetensors file holds. */
export interface ExtraTensor {
  readonly name: string;
  readonly values: Float32Array;
}

type Meta = Map<string, GGUFValue>;

const f = Math.fround;

/**
 * llama3's per-frequency divisors, step by step in float32 as torch computes them (the converter
 * builds the frequencies as a float32 tensor and every later step stays a float32 tensor op).
 */
export function llama3RopeFreqs(p: Config, headDim: number): Float32Array {
  const num = (k: string, d: number) => (typeof p[k] === 'number' ? (p[k] as number) : d);
  const base = num('rope_theta', 10000);
  const factor = f(num('factor', 8));
  const low = f(num('low_freq_factor', 1)), high = f(num('high_freq_factor', 4));
  const oldCtx = num('original_max_position_embeddings', 8192);
  const lowWavelen = oldCtx / low, highWavelen = oldCtx / high;
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const freq = f(1 / f(Math.pow(base, f(f(2 * i) / headDim))));
    const wavelen = f(f(2 * Math.PI) / freq);
    if (wavelen < f(highWavelen)) out[i] = 1;
    else if (wavelen > f(lowWavelen)) out[i] = factor;
    else {
      const smooth = f(f(f(f(oldCtx) / wavelen) - low) / f(high - low));
      out[i] = f(1 / f(f(f(1 - smooth) / factor) + smooth));
    }
  }
  return out;
}

/** What a family accepts beyond default rope. */
export interface RopeSupport {
  /** llama3 → rope_freqs (LlamaModel and its subclasses only) */
  readonly llama3?: boolean;
  /** yarn/linear keys (families whose converter calls TextModel.set_gguf_parameters) */
  readonly scaling?: boolean;
}

/** Writes the scaling keys of `p` (the global layers' rope), returns generated tensors; refuses what it cannot map. */
export function mapRopeScaling(c: HFConfig, rp: RopeParams, arch: string, headDim: number, meta: Meta, support: RopeSupport): ExtraTensor[] {
  const p = rp.full;
  const type = ropeType(p);
  const k = (s: string) => `${arch}.rope.scaling.${s}`;
  if (type === 'default') return [];
  if (type === 'llama3' && support.llama3) return [{ name: 'rope_freqs.weight', values: llama3RopeFreqs({ rope_theta: meta.get(`${arch}.rope.freq_base`), ...p }, headDim) }];
  if (type === 'linear' && support.scaling && typeof p.factor === 'number') {
    meta.set(k('type'), 'linear');
    meta.set(k('factor'), p.factor);
    return [];
  }
  if (type === 'yarn' && support.scaling && typeof p.factor === 'number') {
    // the engine's yarn takes llama.cpp's defaults for these; other values would be a different rope
    const defaults: Record<string, number> = { beta_fast: 32, beta_slow: 1, extrapolation_factor: 1 };
    for (const key of ['beta_fast', 'beta_slow', 'extrapolation_factor', 'attention_factor', 'attn_factor', 'mscale', 'mscale_all_dim']) {
      if (p[key] !== undefined && p[key] !== null && p[key] !== defaults[key]) c.unsupported(`uses yarn rope with ${key} = ${JSON.stringify(p[key])}, which this engine cannot read from a Hugging Face folder yet.`);
    }
    meta.set(k('type'), 'yarn');
    meta.set(k('factor'), p.factor);
    // convert reads it from the rope parameters (ropeParams mirrors a top-level one there)
    const orig = p.original_max_position_embeddings;
    if (typeof orig !== 'number') c.unsupported('uses yarn rope without original_max_position_embeddings.');
    meta.set(k('original_context_length'), orig);
    return [];
  }
  return c.unsupported(`uses '${type}' rope scaling, which this engine cannot read from a Hugging Face folder yet (supported here: default${support.scaling ? ', linear, yarn' : ''}${support.llama3 ? ', llama3' : ''}).`);
}
