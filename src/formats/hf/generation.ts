// generation_config.json, as convert_hf_to_gguf.py reads it (gguf-py's Metadata): the sampling
// defaults become `general.sampling.*` keys (the sampler's defaults where the caller sets nothing,
// engine/model-sampling.ts), and eos_token_id — one id or a list (Llama 3's
// [128001, 128008, 128009]) — ends generation.
import type { Meta } from './family.ts';

const SAMPLING: [string, string[]][] = [
  ['general.sampling.top_k', ['top_k']],
  ['general.sampling.top_p', ['top_p']],
  ['general.sampling.min_p', ['min_p']],
  ['general.sampling.temp', ['temperature']],
  ['general.sampling.penalty_repeat', ['penalty_repeat', 'repetition_penalty']],
];

/** Writes the sampling keys into `meta`; returns the end-of-generation ids. */
export function generationConfig(gen: unknown, meta: Meta): { eogIds: number[] } {
  const g = (gen && typeof gen === 'object' ? gen : {}) as Record<string, unknown>;
  for (const [key, names] of SAMPLING) {
    const v = names.map((n) => g[n]).find((x) => typeof x === 'number' && Number.isFinite(x));
    if (v !== undefined) meta.set(key, v as number);
  }
  const eos = Array.isArray(g.eos_token_id) ? g.eos_token_id : [g.eos_token_id];
  return { eogIds: eos.filter((x): x is number => Number.isInteger(x) && (x as number) >= 0) };
}
