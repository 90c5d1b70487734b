// Gemma2ForCausalLM and Gemma3ForCausalLM / Gemma3ForConditionalGeneration (text part): HF's
// Gemma RMSNorm multiplies by 1 + w, and convert_hf_to_gguf.py stores w + 1 (every '*norm.weight'),
// so those tensors are shifted at read time; lm_head is dropped (tied); Gemma 3's embedding loses
// rows past the tokenizer. Neither converter writes query_pre_attn_scalar or the layer pattern:
// llama.cpp derives them, so config.json values that differ from those are refused.
import { ropeParams, ropeType, type Config, type HFConfig } from '../config.ts';
import { baseMeta, checkAct, llamaLayout, type HFFamily, type Meta } from '../family.ts';
import { mapRopeScaling } from '../rope.ts';

const GEMMA_LAYER = {
  'post_attention_layernorm.weight': 'post_attention_norm.weight',
  'pre_feedforward_layernorm.weight': 'ffn_norm.weight',
  'post_feedforward_layernorm.weight': 'post_ffw_norm.weight',
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
};
const names = llamaLayout(GEMMA_LAYER);

function gemmaTensor(hf: string) {
  // the text model of Gemma3ForConditionalGeneration (transformers 4: language_model.model.*, 5: model.language_model.*)
  const name = hf.replace(/^language_model\.model\./, 'model.').replace(/^model\.language_model\./, 'model.');
  if (name === 'lm_head.weight' || name === 'language_model.lm_head.weight') return null;
  if (/^(model\.)?(vision_tower|multi_modal_projector)\./.test(name)) return null;
  const n = names(name);
  return n && name.endsWith('norm.weight') ? { ...n, shift: 1 } : n;
}

/** llama.cpp's attention scale for Gemma: 1/√(dim/heads) on the 27B models (by layer count), else 1/√head_dim */
function checkQueryScale(c: HFConfig, headDim: number, bigLayers: number): void {
  const q = c.optNum('query_pre_attn_scalar');
  const n = c.num('num_hidden_layers');
  const expected = n === bigLayers ? c.num('hidden_size') / c.num('num_attention_heads') : headDim;
  if (q !== undefined && q !== expected) c.unsupported(`has query_pre_attn_scalar ${q}; llama.cpp and this engine use ${expected} for a ${n}-layer model.`);
}

function common(arch: string, c: HFConfig): { meta: Meta; headDim: number } {
  checkAct(c, ['gelu_pytorch_tanh', 'gelu_tanh']);
  const headDim = c.num('head_dim');
  return { meta: baseMeta(arch, c, headDim), headDim };
}

const GEMMA2_DEFAULTS: Config = {
  vocab_size: 256000, max_position_embeddings: 8192, rms_norm_eps: 1e-6, rope_theta: 10000, head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh', query_pre_attn_scalar: 256, sliding_window: 4096,
  final_logit_softcapping: 30, attn_logit_softcapping: 50, tie_word_embeddings: true,
};

export const gemma2Family: HFFamily = {
  classes: ['Gemma2ForCausalLM'],
  arch: 'gemma2',
  defaults: GEMMA2_DEFAULTS,
  metadata(c) {
    const { meta, headDim } = common('gemma2', c);
    checkQueryScale(c, headDim, 46);
    const rp = ropeParams(c);
    if (ropeType(rp.full) !== 'default') c.unsupported(`uses '${ropeType(rp.full)}' rope scaling, which llama.cpp's Gemma 2 does not read.`);
    // Gemma2Model writes no rope base (llama.cpp then uses 10000); a config.json that sets one is kept
    if (typeof rp.full.rope_theta === 'number') meta.set('gemma2.rope.freq_base', rp.full.rope_theta);
    meta.set('gemma2.attn_logit_softcapping', c.num('attn_logit_softcapping'));
    meta.set('gemma2.final_logit_softcapping', c.num('final_logit_softcapping'));
    meta.set('gemma2.attention.sliding_window', c.num('sliding_window'));
    return { meta, extra: [] };
  },
  tensor: gemmaTensor,
};

const GEMMA3_DEFAULTS: Config = {
  vocab_size: 262208, max_position_embeddings: 131072, rms_norm_eps: 1e-6, rope_theta: 1000000, head_dim: 256,
  num_attention_heads: 8, num_key_value_heads: 4, hidden_activation: 'gelu_pytorch_tanh',
  query_pre_attn_scalar: 256, sliding_window: 4096, sliding_window_pattern: 6, rope_local_base_freq: 10000,
  tie_word_embeddings: true,
};

/** llama.cpp's fixed Gemma 3 pattern: of every 6 layers the last is global */
function checkLayerTypes(c: HFConfig): void {
  const n = c.num('num_hidden_layers');
  const pattern = c.num('sliding_window_pattern', 6);
  const types = Array.isArray(c.raw.layer_types) ? (c.raw.layer_types as unknown[]).map(String)
    : Array.from({ length: n }, (_, i) => ((i + 1) % pattern ? 'sliding_attention' : 'full_attention'));
  const fixed = Array.from({ length: n }, (_, i) => ((i + 1) % 6 ? 'sliding_attention' : 'full_attention'));
  if (types.join() !== fixed.join()) c.unsupported(`has the layer pattern [${types.join(', ')}]; llama.cpp and this engine use Gemma 3's fixed five sliding layers to one global.`);
}

export const gemma3Family: HFFamily = {
  classes: ['Gemma3ForCausalLM', 'Gemma3ForConditionalGeneration'],
  arch: 'gemma3',
  defaults: GEMMA3_DEFAULTS,
  metadata(c) {
    const { meta, headDim } = common('gemma3', c);
    checkQueryScale(c, headDim, 62);
    if (c.has('attn_logit_softcapping')) c.unsupported('has attention soft-capping, which Gemma 3 does not have.');
    const rp = ropeParams(c);
    meta.set('gemma3.rope.freq_base', typeof rp.full.rope_theta === 'number' ? rp.full.rope_theta : 1e6);
    if (typeof rp.sliding?.rope_theta === 'number') meta.set('gemma3.rope.freq_base_swa', rp.sliding.rope_theta);
    if (rp.sliding && ropeType(rp.sliding) !== 'default') c.unsupported(`uses '${ropeType(rp.sliding)}' rope on its sliding layers, which llama.cpp does not read.`);
    const extra = mapRopeScaling(c, rp, 'gemma3', headDim, meta, { scaling: true });
    const cap = c.optNum('final_logit_softcapping');
    if (cap) meta.set('gemma3.final_logit_softcapping', cap);
    if (c.raw.sliding_window_pattern !== 1) {
      checkLayerTypes(c);
      meta.set('gemma3.attention.sliding_window', c.num('sliding_window'));
    }
    return { meta, extra };
  },
  tensor: gemmaTensor,
  // Gemma3Model.modify_tensors: embed_tokens cut to len(vocab) + len(added_tokens) of tokenizer.json
  embeddingRows(tokenizerJson) {
    const j = tokenizerJson as { model?: { vocab?: object }; added_tokens?: unknown[] };
    return j?.model?.vocab ? Object.keys(j.model.vocab).length + (j.added_tokens?.length ?? 0) : undefined;
  },
};
