// LlamaForCausalLM / MistralForCausalLM (convert_hf_to_gguf.py's LlamaModel): the llama block,
// q/k rows permuted for adjacent-pair rope by the converter (we keep HF's order and rotate halves),
// llama3 rope scaling as the generated rope_freqs tensor.
import { ropeParams, type Config, type HFConfig } from '../config.ts';
import { baseMeta, checkAct, llamaLayout, type HFFamily, type Meta } from '../family.ts';
import { mapRopeScaling, type ExtraTensor } from '../rope.ts';

/** transformers' LlamaConfig defaults (MistralConfig differs only in sizes a saved config states) */
const LLAMA_DEFAULTS: Config = {
  vocab_size: 32000, max_position_embeddings: 2048, rms_norm_eps: 1e-6, rope_theta: 10000,
  hidden_act: 'silu', tie_word_embeddings: false, attention_bias: false, mlp_bias: false,
};

/** LlamaModel.set_gguf_parameters for `arch` (SmolLM3 reuses it). */
export function llamaMetadata(arch: string, c: HFConfig): { meta: Meta; extra: ExtraTensor[] } {
  checkAct(c, ['silu']);
  if (c.raw.attention_bias === true || c.raw.mlp_bias === true) c.unsupported('with attention or MLP biases is not supported.');
  const headDim = c.num('head_dim', c.num('hidden_size') / c.num('num_attention_heads'));
  const rp = ropeParams(c);
  const meta = baseMeta(arch, c, headDim);
  meta.set(`${arch}.rope.dimension_count`, headDim);
  meta.set(`${arch}.rope.freq_base`, typeof rp.full.rope_theta === 'number' ? rp.full.rope_theta : 10000);
  const extra = mapRopeScaling(c, rp, arch, headDim, meta, { llama3: true, scaling: true });
  return { meta, extra };
}

const names = llamaLayout();

export const llamaFamily: HFFamily = {
  classes: ['LlamaForCausalLM', 'MistralForCausalLM'],
  arch: 'llama',
  defaults: LLAMA_DEFAULTS,
  permutesQK: true,
  metadata: (c) => llamaMetadata('llama', c),
  tensor: names,
};

export { LLAMA_DEFAULTS };
