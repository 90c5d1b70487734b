// SmolLM3: the llama block with every fourth layer left without rope (NoPE).
import type { ArchSpec } from './arch.ts';

export const smollm3: ArchSpec = {
  name: 'smollm3',
  ropeNeox: false,
  ffn: 'silu',
  noRopeEvery: 4,
};
