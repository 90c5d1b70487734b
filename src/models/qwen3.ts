// Qwen3 (0.6B … 32B dense): Qwen2's block without biases, plus a per-head RMSNorm on q and k
// before rope; head_dim is explicit (attention.key_length), so q may be wider than the model.
import type { ArchSpec } from './arch.ts';

export const qwen3: ArchSpec = {
  name: 'qwen3',
  ropeNeox: true,
  qkNorm: true,
  ffn: 'silu',
};
