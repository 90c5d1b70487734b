// Qwen2ForCausalLM (q/k/v biases) and Qwen3ForCausalLM (per-head q/k RMSNorm, explicit head_dim):
// convert_hf_to_gguf.py's Qwen2Model/Qwen3Model keep HF's rotate-half q/k order (GGUF qwen2/qwen3
// use NEOX rope), so every tensor is used as stored.
import { ropeParams, type Config, type HFConfig } from '../config.ts';
import { baseMeta, checkAct, llamaLayout, type HFFamily, type Meta } from '../family.ts';
import { mapRopeScaling, type ExtraTensor } from '../rope.ts';

const QWEN_DEFAULTS: Config = {
  vocab_size: 151936, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 10000,
  hidden_act: 'silu', tie_word_embeddings: false,
};

function qwenMetadata(arch: string, c: HFConfig): { meta: Meta; extra: ExtraTensor[] } {
  checkAct(c, ['silu']);
  if (arch === 'qwen3' && c.raw.attention_bias === true) c.unsupported('with attention biases is not supported.');
  // TextModel writes key/value length only where config.json has head_dim (Qwen3); rope covers the head
  const headDim = c.optNum('head_dim');
  const rp = ropeParams(c);
  const meta = baseMeta(arch, c, headDim);
  if (typeof rp.full.rope_theta === 'number') meta.set(`${arch}.rope.freq_base`, rp.full.rope_theta);
  const extra = mapRopeScaling(c, rp, arch, headDim ?? c.num('hidden_size') / c.num('num_attention_heads'), meta, { scaling: true });
  return { meta, extra };
}

const qwen2Names = llamaLayout({
  'self_attn.q_proj.bias': 'attn_q.bias',
  'self_attn.k_proj.bias': 'attn_k.bias',
  'self_attn.v_proj.bias': 'attn_v.bias',
});
const qwen3Names = llamaLayout({
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
});

export const qwen2Family: HFFamily = {
  classes: ['Qwen2ForCausalLM'],
  arch: 'qwen2',
  defaults: QWEN_DEFAULTS,
  metadata: (c) => qwenMetadata('qwen2', c),
  tensor: qwen2Names,
};

export const qwen3Family: HFFamily = {
  classes: ['Qwen3ForCausalLM'],
  arch: 'qwen3',
  defaults: { ...QWEN_DEFAULTS, head_dim: 128, attention_bias: false },
  metadata: (c) => qwenMetadata('qwen3', c),
  tensor: qwen3Names,
};
