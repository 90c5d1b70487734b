// mlc-chat-config.json's model_config → the HF family that reads it. mlc-llm's config classes keep
// most of HF's key names (position_embedding_base is rope_theta; asdict() drops the kwargs), so each
// model_type maps its model_config onto HF's names and the HF family's config → metadata code (with
// its rope scaling: llama3's rope_freqs, Phi-3's longrope factors, linear/yarn keys) does the rest.
// Tensor names: MLC's own module names (Phi-3's transformer.h.*) mapped to HF's, then the family's
// mapping; only the fusions (qkv_proj / c_attn, gate_up_proj) are MLC's own.
import type { GGUFValue } from '../gguf/reader.ts';
import { HFConfig, type Config } from '../hf/config.ts';
import type { HFFamily } from '../hf/family.ts';
import type { ExtraTensor } from '../hf/rope.ts';
import { llamaFamily } from '../hf/families/llama.ts';
import { qwen2Family, qwen3Family } from '../hf/families/qwen.ts';
import { gemma2Family, gemma3Family } from '../hf/families/gemma.ts';
import { phi3Family } from '../hf/families/phi3.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';

export interface MLCFamily {
  readonly family: HFFamily;
  /** the HF class whose config the model_config stands for */
  readonly cls: string;
  /** model_config → HF's key names */
  readonly config?: (mc: Config, where: string) => Config;
  /** MLC module name → HF's */
  readonly rename?: (base: string) => string;
  /** the model's context where mlc-chat-config's context_window_size is not it */
  readonly context?: (c: HFConfig) => number;
}

/**
 * MLC's LlamaConfig: position_embedding_base for rope_theta; rope_scaling kept only with a
 * rope_type (mlc-llm itself then accepts only llama3). Other types are read as config.json means them.
 */
function llamaConfig(mc: Config): Config {
  const { position_embedding_base, ...rest } = mc;
  return { ...rest, rope_theta: position_embedding_base ?? mc.rope_theta ?? 10000 };
}

/**
 * MLC's QWen2Config/Qwen3Config have no rope_scaling field: gen_config drops HF's (yarn and all) and
 * mlc-llm runs default rope. One in model_config was not written by mlc-llm; refused rather than guessed.
 */
function qwenConfig(mc: Config, where: string): Config {
  if (mc.rope_scaling !== undefined && mc.rope_scaling !== null) {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: model_config has rope_scaling ${JSON.stringify(mc.rope_scaling)}, but mlc-llm's Qwen models have no rope scaling (gen_config drops it), so this folder was not written by mlc-llm and its rope cannot be known.`);
  }
  return mc;
}

/** MLC's Phi3Config: HF's keys but position_embedding_base for rope_theta (rope_scaling keeps longrope's factors). */
function phi3Config(mc: Config): Config {
  const { kwargs, position_embedding_base, ...rest } = mc;
  return { ...(kwargs as Config), ...rest, rope_theta: position_embedding_base };
}

/** MLC's Phi-3 module names (transformer.h.N.mixer.*) → HF's. */
function phi3Name(base: string): string {
  return base.replace(/^transformer\.embd$/, 'model.embed_tokens').replace(/^transformer\.norm$/, 'model.norm')
    .replace(/^transformer\.h\./, 'model.layers.').replace(/\.ln$/, '.input_layernorm')
    .replace(/\.mixer\.qkv_proj$/, '.self_attn.qkv_proj').replace(/\.mixer\.out_proj$/, '.self_attn.o_proj');
}

/**
 * MLC's Gemma2Config (GemmaConfig's keys plus HF's soft-caps, query_pre_attn_scalar and
 * sliding_window; always tied). mlc-llm itself skips the attention soft-cap and sets
 * context_window_size to the window instead of sliding it; we run the model as HF and llama.cpp
 * define it, over Gemma2Config's 8192 positions (asdict() keeps no max_position_embeddings).
 */
function gemma2Config(mc: Config): Config {
  const { position_embedding_base, ...rest } = mc;
  const { context_window_size: _, ...hf } = rest;
  return { ...hf, rope_theta: position_embedding_base, tie_word_embeddings: true };
}

/**
 * MLC's Gemma3Config → HF's keys: its text_config under HF's names. rope_scaling is 0 unless HF's
 * had one (Gemma 3 4B+: linear on the global layers); mlc-llm ignores it, we apply it as llama.cpp does.
 */
function gemma3Config(mc: Config): Config {
  const { kwargs, position_embedding_base, sliding_window_size, rope_scaling, ...text } = (mc.text_config ?? mc) as Config;
  const rs = rope_scaling && typeof rope_scaling === 'object' ? { rope_scaling } : {};
  return { ...(kwargs as Config), ...text, ...rs, rope_theta: position_embedding_base, sliding_window: sliding_window_size, vocab_size: mc.vocab_size, tie_word_embeddings: true };
}

export const MLC_FAMILIES: Record<string, MLCFamily> = {
  llama: { family: llamaFamily, cls: 'LlamaForCausalLM', config: llamaConfig },
  mistral: { family: llamaFamily, cls: 'MistralForCausalLM', config: llamaConfig },
  qwen2: { family: qwen2Family, cls: 'Qwen2ForCausalLM', config: qwenConfig },
  qwen3: { family: qwen3Family, cls: 'Qwen3ForCausalLM', config: qwenConfig },
  gemma2: { family: gemma2Family, cls: 'Gemma2ForCausalLM', config: gemma2Config, context: (c) => c.num('max_position_embeddings') },
  gemma3: { family: gemma3Family, cls: 'Gemma3ForCausalLM', config: gemma3Config },
  phi3: { family: phi3Family, cls: 'Phi3ForCausalLM', config: phi3Config, rename: phi3Name },
};

/** model_config as the HF family's config (its class defaults under it). */
export function mlcConfig(t: MLCFamily, mc: Config, where: string): HFConfig {
  return new HFConfig(where, { ...(t.config ? t.config(mc, where) : mc), architectures: [t.cls] }, t.family.defaults);
}

/** The family's metadata and generated tensors, with the context MLC compiled for. */
export function mlcMetadata(t: MLCFamily, c: HFConfig, cfg: Config, where: string, name: string): { meta: Map<string, GGUFValue>; extra: ExtraTensor[] } {
  const { meta, extra } = t.family.metadata(c);
  meta.set('general.name', name);
  const v = t.context ? t.context(c) : cfg.context_window_size;
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new EngineError('BAD_SHAPE', `${where}: context_window_size is not a number (${JSON.stringify(v)}).`);
  meta.set(`${t.family.arch}.context_length`, v ?? c.num(['context_window_size', 'max_position_embeddings'], 2048));
  return { meta, extra };
}

/**
 * MLC parameter base name (without .weight/.q_weight/.q_scale) → GGUF name through the HF family's
 * mapping. Gemma's norm shift is not applied: mlc-llm's loader already stored w + 1.
 */
export function mlcNamer(t: MLCFamily, c: HFConfig, where: string): (base: string) => string {
  return (mlcBase) => {
    const base = t.rename ? t.rename(mlcBase) : mlcBase;
    const m = /^(?:language_model\.)?model\.layers\.(\d+)\.(self_attn\.c_attn|self_attn\.qkv_proj|mlp\.gate_up_proj)$/.exec(base);
    if (m) return `blk.${m[1]}.${m[2] === 'mlp.gate_up_proj' ? 'ffn_up' : 'attn_qkv'}.weight`;
    const target = t.family.tensor(`${base}.weight`, c);
    if (!target) throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: tensor '${mlcBase}' is not part of the ${t.family.arch} layout this engine reads from MLC folders.`);
    return target.name;
  };
}
