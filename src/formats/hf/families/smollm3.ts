// SmolLM3ForCausalLM: convert_hf_to_gguf.py's SmolLM3Model is LlamaModel under another arch name
// (q/k permuted, which we leave in HF order). Its NoPE layers are not written to the GGUF:
// llama.cpp leaves every 4th layer without rope, so a config.json with another pattern is refused.
import type { HFConfig } from '../config.ts';
import { llamaLayout, type HFFamily } from '../family.ts';
import { LLAMA_DEFAULTS, llamaMetadata } from './llama.ts';

const NOPE_INTERVAL = 4;

function checkNoPE(c: HFConfig): void {
  const n = c.num('num_hidden_layers');
  const interval = c.num('no_rope_layer_interval', NOPE_INTERVAL);
  // no_rope_layers[i] = 1: layer i uses rope (transformers' SmolLM3Config)
  const flags = Array.isArray(c.raw.no_rope_layers) ? c.raw.no_rope_layers as unknown[]
    : Array.from({ length: n }, (_, i) => ((i + 1) % interval !== 0 ? 1 : 0));
  const expected = Array.from({ length: n }, (_, i) => ((i + 1) % NOPE_INTERVAL !== 0 ? 1 : 0));
  if (flags.length !== n || flags.some((x, i) => Number(x) !== expected[i])) {
    c.unsupported(`has NoPE layers [${flags.join(',')}]; llama.cpp and this engine leave exactly every ${NOPE_INTERVAL}th layer without rope.`);
  }
}

const names = llamaLayout();

export const smollm3Family: HFFamily = {
  classes: ['SmolLM3ForCausalLM'],
  arch: 'smollm3',
  // SmolLM3Config: rope_theta 2e6, tied embeddings
  defaults: { ...LLAMA_DEFAULTS, vocab_size: 128256, max_position_embeddings: 32768, rope_theta: 2000000, tie_word_embeddings: true },
  permutesQK: true,
  metadata(c) {
    checkNoPE(c);
    return llamaMetadata('smollm3', c);
  },
  tensor: names,
};
