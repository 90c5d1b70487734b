// Phi-3 / Phi-3.5-mini / Phi-4-mini: fused qkv and gate|up tensors, NEOX rope over part of each
// head (rope.dimension_count), longrope factors (rope_factors_long/short, picked by whether the
// context exceeds the original one) with their attention factor. Their sliding window is ignored,
// as llama.cpp does.
import type { ArchSpec } from './arch.ts';

export const phi3: ArchSpec = {
  name: 'phi3',
  ropeNeox: true,
  fusedGateUp: true,
  ffn: 'silu',
};
