// The GGUF cases of ../shared/fixtures/arch/llamacpp-refs.json (the `hf/` folders belong to the
// Hugging Face importer): [key, model path, text path, llama.cpp's figures].
import { readFileSync } from 'node:fs';
import { fixture } from '../fixtures.ts';

export interface ArchRef { ppl: number; nTokens: number; text: string }

export function archCases(): [string, string, string, ArchRef][] {
  const refs: Record<string, ArchRef> = JSON.parse(readFileSync(fixture('arch', 'llamacpp-refs.json'), 'utf8'));
  return Object.entries(refs).filter(([k]) => !k.startsWith('hf/')).map(([k, ref]) => {
    const file = k.replace(/@long$/, '');
    const text = ref.text === 'long.txt' ? fixture('arch', 'long.txt') : fixture('quant', ref.text);
    return [k, fixture('arch', file), text, ref];
  });
}
