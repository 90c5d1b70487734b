// Llama family (Llama 2/3/3.1/3.2, TinyLlama, SmolLM/SmolLM2, Mistral without sliding window):
// RMSNorm, rope on adjacent pairs, GQA, SwiGLU; optional rope_freqs (llama3 scaling) and tied output.
import type { ArchSpec } from './arch.ts';

export const llama: ArchSpec = {
  name: 'llama',
  ropeNeox: false,
  ffn: 'silu',
};
