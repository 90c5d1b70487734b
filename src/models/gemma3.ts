// Gemma 3 (text): Gemma 2's block with q/k RMSNorm instead of attention soft-capping; five
// sliding-window layers with their own rope base (10000) to one global layer (the file's base and
// linear scaling), when the file gives a window.
import type { ArchSpec } from './arch.ts';

export const gemma3: ArchSpec = {
  name: 'gemma3',
  ropeNeox: true,
  qkNorm: true,
  postNorms: true,
  ffn: 'gelu_tanh',
  embedScaleSqrtDim: true,
  slidingWindow: { pattern: 6, defaultRopeBase: 10000 },
  // no attention soft-cap; a final one only if the file states it
  defaultSoftcaps: { attention: 0, final: 0 },
  // query_pre_attn_scalar = dim / nHead on the 27B model (62 layers), head_dim elsewhere
  attentionScale: (h) => 1 / Math.sqrt(h.nLayers === 62 ? h.dim / h.nHead : h.headDim),
};
