// Test helpers: GGUF metadata of a fixture and llama.cpp's tokenizer test vectors.
import { readFileSync } from 'node:fs';
import { parseHeader, type GGUFValue } from '../../src/formats/gguf/header-parser.ts';
import { fixture } from '../fixtures.ts';

export function ggufMetadata(file: string): Map<string, GGUFValue> {
  const buf = readFileSync(file);
  return parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, file).metadata;
}

export interface VocabCase { text: string; ids: number[] }

/** Pairs of llama.cpp's tests/test-tokenizer-0 files: `.inp` texts and `.out` expected ids. */
export function vocabCases(name: string): VocabCase[] {
  const base = fixture('tokenizers', 'llama.cpp', `ggml-vocab-${name}.gguf`);
  const texts = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  texts.pop(); // the file ends with a separator
  const lines = readFileSync(`${base}.out`, 'utf8').split('\n');
  return texts.map((text, i) => ({
    text,
    ids: lines[i].split(' ').filter((s) => s !== '').map(Number),
  }));
}

export const vocabFile = (name: string): string => fixture('tokenizers', 'llama.cpp', `ggml-vocab-${name}.gguf`);
