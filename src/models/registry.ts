import { UnsupportedError } from '../shared/errors.ts';
import type { ArchSpec } from './arch.ts';
import { gemma2 } from './gemma2.ts';
import { gemma3 } from './gemma3.ts';
import { llama } from './llama.ts';
import { phi3 } from './phi3.ts';
import { qwen2 } from './qwen2.ts';
import { qwen3 } from './qwen3.ts';
import { smollm3 } from './smollm3.ts';

const ARCHS: ReadonlyMap<string, ArchSpec> = new Map([llama, qwen2, qwen3, gemma2, gemma3, phi3, smollm3].map((a) => [a.name, a]));

export const SUPPORTED_ARCHS = [...ARCHS.keys()];

export function getArch(name: unknown): ArchSpec {
  const a = typeof name === 'string' ? ARCHS.get(name) : undefined;
  if (!a) {
    throw new UnsupportedError('UNSUPPORTED_ARCH',
      `This model's architecture is '${String(name)}', which this engine cannot run yet (supported: ${SUPPORTED_ARCHS.join(', ')}).`);
  }
  return a;
}
