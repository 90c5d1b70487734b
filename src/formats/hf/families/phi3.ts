// Phi3ForCausalLM (convert_hf_to_gguf.py's Phi3MiniModel): fused qkv_proj and gate_up_proj stay
// fused (GGUF attn_qkv and a 2·ff-row ffn_up, gate first), rope over partial_rotary_factor of each
// head, longrope's long/short factors as generated tensors with their attention factor.
import { ropeParams, ropeType, type HFConfig } from '../config.ts';
import { baseMeta, checkAct, llamaLayout, type HFFamily, type Meta } from '../family.ts';
import type { ExtraTensor } from '../rope.ts';

const names = llamaLayout({
  'self_attn.qkv_proj.weight': 'attn_qkv.weight',
  'mlp.gate_up_proj.weight': 'ffn_up.weight',
});

/** Phi3MiniModel.generate_extra_tensors: longrope factors, and rope.scaling.attn_factor */
function longrope(c: HFConfig, p: Record<string, unknown>, ropeDims: number, meta: Meta): ExtraTensor[] {
  const long = p.long_factor, short = p.short_factor;
  if (!Array.isArray(long) || long.length === 0) return [];
  const type = ropeType(p);
  if (type !== 'longrope' && type !== 'su') c.unsupported(`uses '${type}' rope factors, which this engine cannot read from a Hugging Face folder yet (supported: longrope).`);
  if (!Array.isArray(short) || short.length !== long.length || long.length !== ropeDims / 2) {
    c.unsupported(`has longrope factors of lengths ${long.length} and ${Array.isArray(short) ? short.length : 'none'}; both must be ${ropeDims / 2}.`);
  }
  const ctx = c.num(['n_positions', 'max_position_embeddings']);
  const orig = Number(p.original_max_position_embeddings);
  const scale = ctx / orig;
  meta.set('phi3.rope.scaling.attn_factor', scale > 1 ? Math.sqrt(1 + Math.log(scale) / Math.log(orig)) : 1);
  return [
    { name: 'rope_factors_long.weight', values: Float32Array.from(long as number[]) },
    { name: 'rope_factors_short.weight', values: Float32Array.from(short as number[]) },
  ];
}

export const phi3Family: HFFamily = {
  classes: ['Phi3ForCausalLM'],
  arch: 'phi3',
  // Phi3Config defaults
  defaults: {
    vocab_size: 32064, max_position_embeddings: 4096, original_max_position_embeddings: 4096, rms_norm_eps: 1e-5,
    rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: false, partial_rotary_factor: 1,
  },
  fusedGateUp: true,
  metadata(c) {
    checkAct(c, ['silu']);
    const dim = c.num('hidden_size'), nHead = c.num('num_attention_heads');
    const rp = ropeParams(c);
    const p = rp.full;
    const rotPct = typeof p.partial_rotary_factor === 'number' ? p.partial_rotary_factor : 1;
    const ropeDims = Math.floor(Math.floor(rotPct * dim) / nHead);
    const meta = baseMeta('phi3', c, undefined);
    meta.set('phi3.rope.scaling.original_context_length', c.num('original_max_position_embeddings', Number(p.original_max_position_embeddings)));
    meta.set('phi3.rope.dimension_count', ropeDims);
    meta.set('phi3.rope.freq_base', typeof p.rope_theta === 'number' ? p.rope_theta : 10000);
    meta.set('phi3.attention.sliding_window', c.optNum('sliding_window') ?? 0);
    const type = ropeType(p);
    if (type !== 'default' && type !== 'longrope' && type !== 'su') c.unsupported(`uses '${type}' rope scaling, which this engine cannot read from a Hugging Face folder yet (supported: default, longrope).`);
    return { meta, extra: longrope(c, p, ropeDims, meta) };
  },
  tensor: names,
};
