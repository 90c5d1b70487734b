// Gemma 2: embeddings × √dim, sandwich norms (the converter stores Gemma's 1 + w as plain RMSNorm
// weights), GELU-tanh gated FFN, tied LM head; every other layer slides over a 4096 window, and
// attention (50) and final logits (30) are soft-capped.
import type { ArchSpec } from './arch.ts';

export const gemma2: ArchSpec = {
  name: 'gemma2',
  ropeNeox: true,
  postNorms: true,
  ffn: 'gelu_tanh',
  embedScaleSqrtDim: true,
  tiedOutput: true,
  slidingWindow: { pattern: 2, defaultWindow: 4096, defaultRopeBase: 'global' },
  defaultSoftcaps: { attention: 50, final: 30 },
  // query_pre_attn_scalar = dim / nHead on the 27B model (46 layers), head_dim elsewhere
  attentionScale: (h) => 1 / Math.sqrt(h.nLayers === 46 ? h.dim / h.nHead : h.headDim),
};
