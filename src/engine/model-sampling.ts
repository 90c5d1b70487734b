// The sampler settings a model ships with, used wherever the caller leaves a setting unset. As
// llama.cpp (common/common.cpp, de3ff815): a value the user gave wins, else the model's
// general.sampling.* key, else the built-in default. HF folders get those keys from
// generation_config.json (formats/hf/generation.ts); MLC folders carry theirs in mlc-chat-config.json.
import type { GGUFFile } from '../formats/gguf/reader.ts';
import type { MLCModelFile } from '../formats/mlc/folder.ts';
import { resolveSamplingParams, type SamplingParams } from './sampling.ts';

type Field = Exclude<keyof SamplingParams, 'seed' | 'logitBias'>;

/** llama.cpp's keys that our sampler has (mirostat, XTC and the sampler sequence it does not). */
const GGUF_KEYS: [string, Field][] = [
  ['general.sampling.temp', 'temperature'],
  ['general.sampling.top_k', 'topK'],
  ['general.sampling.top_p', 'topP'],
  ['general.sampling.min_p', 'minP'],
  ['general.sampling.penalty_repeat', 'repeatPenalty'],
  ['general.sampling.penalty_last_n', 'repeatLastN'],
];

/** mlc-chat-config.json's fields (mlc-llm's GenerationConfig defaults). */
const MLC_KEYS: [string, Field][] = [
  ['temperature', 'temperature'],
  ['top_p', 'topP'],
  ['repetition_penalty', 'repeatPenalty'],
  ['presence_penalty', 'presencePenalty'],
  ['frequency_penalty', 'frequencyPenalty'],
];

/**
 * The file's sampler defaults. A value the sampler would refuse is left out rather than failing every
 * answer over a setting the user never made; penalty_last_n -1 means the whole context, as in llama.cpp.
 */
export function modelSamplingDefaults(file: Pick<GGUFFile, 'metadata'> & Partial<Pick<MLCModelFile, 'mlc'>>, nCtx: number): Partial<SamplingParams> {
  const out: Partial<SamplingParams> = {};
  const take = (field: Field, v: unknown) => {
    if (typeof v !== 'number' && typeof v !== 'bigint') return;
    let n = Number(v);
    if (field === 'repeatLastN' && n === -1) n = nCtx;
    try {
      resolveSamplingParams({ [field]: n });
      out[field] = n;
    } catch {
      // out of range: the built-in default stays
    }
  };
  for (const [key, field] of GGUF_KEYS) take(field, file.metadata.get(key));
  const mlc = file.mlc?.sampling;
  if (mlc) for (const [key, field] of MLC_KEYS) take(field, mlc[key]);
  return out;
}
