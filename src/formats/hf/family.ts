// What one Hugging Face model family needs to be read as GGUF: its config classes, config.json →
// the metadata convert_hf_to_gguf.py writes for it, and HF tensor names → GGUF names (with a value
// shift where the converter changes values). The families live in families/*.ts.
import type { GGUFValue } from '../gguf/reader.ts';
import type { Config, HFConfig } from './config.ts';
import type { ExtraTensor } from './rope.ts';

export type Meta = Map<string, GGUFValue>;

/** Where an HF tensor goes: its GGUF name, and the constant convert adds to its values (Gemma norms). */
export interface TensorTarget {
  readonly name: string;
  readonly shift?: number;
}

export interface HFFamily {
  /** `architectures[0]` values this family reads */
  readonly classes: readonly string[];
  /** GGUF `general.architecture` */
  readonly arch: string;
  /** the config class's defaults for keys config.json may leave out (transformers saves a diff) */
  readonly defaults: Config;
  /** config.json → `<arch>.*` metadata, plus the tensors the converter generates */
  metadata(c: HFConfig): { meta: Meta; extra: ExtraTensor[] };
  /** HF tensor name → GGUF target; null for tensors the converter drops; undefined = not this layout */
  tensor(hf: string, c: HFConfig): TensorTarget | null | undefined;
  /** true where the converter permutes q/k rows for adjacent-pair rope (llama): we keep HF's order instead */
  readonly permutesQK?: boolean;
  /** gate and up stay one tensor (Phi-3's gate_up_proj) */
  readonly fusedGateUp?: boolean;
  /** embedding rows the converter keeps (Gemma 3 drops rows past the tokenizer), given tokenizer.json */
  embeddingRows?(tokenizerJson: unknown): number | undefined;
}

/** The base keys every family writes (TextModel.set_gguf_parameters' common part). */
export function baseMeta(arch: string, c: HFConfig, headDim: number | undefined): Meta {
  const nHead = c.num('num_attention_heads');
  const m: Meta = new Map<string, GGUFValue>([
    ['general.architecture', arch],
    [`${arch}.context_length`, c.num(['max_position_embeddings', 'n_ctx', 'n_positions'], 2048)],
    [`${arch}.embedding_length`, c.num('hidden_size')],
    [`${arch}.feed_forward_length`, c.num('intermediate_size')],
    [`${arch}.block_count`, c.num('num_hidden_layers')],
    [`${arch}.attention.head_count`, nHead],
    [`${arch}.attention.head_count_kv`, c.num('num_key_value_heads', nHead)],
    [`${arch}.attention.layer_norm_rms_epsilon`, c.num(['rms_norm_eps', 'norm_eps'], 1e-6)],
    [`${arch}.vocab_size`, c.num('vocab_size')],
  ]);
  if (headDim !== undefined) {
    m.set(`${arch}.attention.key_length`, headDim);
    m.set(`${arch}.attention.value_length`, headDim);
  }
  return m;
}

/** Refuses an activation other than the family's. */
export function checkAct(c: HFConfig, allowed: readonly string[]): void {
  const act = c.find(['hidden_activation', 'hidden_act']);
  if (act !== undefined && !allowed.includes(String(act))) c.unsupported(`with activation '${String(act)}' is not supported (only ${allowed.join(', ')}).`);
}

const LAYER: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

/**
 * The llama layout's names (llama.cpp's tensor_mapping for model.*), with `extra` per-layer names
 * overriding or adding (Qwen biases and q/k norms, Gemma's four norms, Phi-3's fused tensors).
 */
export function llamaLayout(extra: Record<string, string> = {}): (hf: string) => TensorTarget | null | undefined {
  const layer = { ...LAYER, ...extra };
  const top: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  return (hf) => {
    if (top[hf]) return { name: top[hf] };
    if (hf.endsWith('.rotary_emb.inv_freq')) return null;
    const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
    const part = m ? layer[m[2]] : undefined;
    return part === undefined ? undefined : { name: `blk.${m![1]}.${part}` };
  };
}
