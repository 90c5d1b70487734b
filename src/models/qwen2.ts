// Qwen2 / Qwen2.5: the llama block plus q/k/v biases and NEOX (rotate-half) rope.
import type { ArchSpec } from './arch.ts';

export const qwen2: ArchSpec = {
  name: 'qwen2',
  ropeNeox: true,
  qkvBias: true,
  ffn: 'silu',
};
