// tokenizer.json builder, checked against @huggingface/tokenizers on the same files.
import { readFileSync } from 'node:fs';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/shared/errors.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import { fixture } from '../fixtures.ts';
import { ggufMetadata, vocabFile } from './helpers.ts';

const dir = fixture('models', 'TinyStories-656K');
const json = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8'));
const config = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));

const SENTENCES = [
  'Once upon a time',
  'Once upon a time, there was a little girl named Lily. She loved to play outside!',
  '  Two leading spaces, "quotes" and 123 numbers?\nNew line.',
  'Tom said: "I can\'t find my red ball." Mom smiled.',
];
const NON_ASCII = ['Café déjà vu — naïve 😀 日本語', 'Ünïcödé\ttabs ½'];

const hfIds = (t: HFTokenizer, s: string) => Array.from(t.encode(s, { add_special_tokens: false }).ids);

/** The same tokenizer with the 256 <0xNN> byte tokens it lacks appended, so byte_fallback has work. */
function withByteTokens(): unknown {
  const j = structuredClone(json);
  const base = Object.keys(j.model.vocab).length;
  for (let b = 0; b < 256; b++) j.model.vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = base + b;
  return j;
}

describe('TinyStories-656K tokenizer.json', () => {
  const ours = tokenizerFromHFJson(json, config);
  const hf = new HFTokenizer(json, config);

  it('encodes "Once upon a time" like the HF tokenizer', () => {
    expect(ours.encode('Once upon a time')).toEqual(hfIds(hf, 'Once upon a time'));
    expect(ours.encode('Once upon a time')).toEqual([80, 147, 201, 282, 57]);
  });

  it.each([...SENTENCES, ...NON_ASCII])('matches the HF ids for %j', (s) => {
    expect(ours.encode(s)).toEqual(hfIds(hf, s));
  });

  it.each(SENTENCES)('round-trips %j', (s) => {
    expect(ours.decode(ours.encode(s))).toBe(s);
  });

  it('reads BOS/EOS and add_bos from tokenizer_config.json', () => {
    expect([ours.bosId, ours.eosId, ours.addBos, ours.addEos]).toEqual([1, 2, true, false]);
    expect(ours.eogIds.has(2)).toBe(true);
    expect(ours.tokenType(0)).toBe('unknown');
    expect(ours.tokenType(1)).toBe('control');
  });

  it('parses special token text only when asked', () => {
    expect(ours.encode('a<|end_story|>', { parseSpecial: true }).at(-1)).toBe(2);
    expect(ours.encode('a<|end_story|>')).not.toContain(2);
  });
});

describe('byte fallback', () => {
  const j = withByteTokens();
  const ours = tokenizerFromHFJson(j, config);
  const hf = new HFTokenizer(j as object, config);

  it.each(NON_ASCII)('matches the HF ids and round-trips %j', (s) => {
    const ids = ours.encode(s);
    expect(ids).toEqual(hfIds(hf, s));
    expect(ids.some((id) => ours.tokenType(id) === 'byte')).toBe(true);
    expect(ours.decode(ids)).toBe(s);
  });
});

describe('unsupported tokenizer.json', () => {
  it('rejects non-BPE models with a typed error', () => {
    expect(() => tokenizerFromHFJson({ model: { type: 'Unigram', vocab: [] } })).toThrow(EngineError);
  });
  it('rejects a Split pre-tokenizer it cannot mirror, and an unknown normalizer, with typed errors', () => {
    const model = { type: 'BPE', vocab: { a: 0 }, merges: [] };
    const split = { type: 'Split', pattern: { String: ' ' }, behavior: 'Isolated', invert: false };
    expect(() => tokenizerFromHFJson({ model, pre_tokenizer: split })).toThrow(EngineError);
    expect(() => tokenizerFromHFJson({ model, normalizer: { type: 'Lowercase' } })).toThrow(/Lowercase/);
  });
});

describe('byte-level tokenizer.json (GPT-2 vocab from the llama.cpp fixture)', () => {
  const meta = ggufMetadata(vocabFile('gpt-2'));
  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  const j = {
    model: { type: 'BPE', vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges: meta.get('tokenizer.ggml.merges') },
    added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
    decoder: { type: 'ByteLevel' },
    normalizer: null,
    post_processor: null,
  };
  const cfg = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' };
  const ours = tokenizerFromHFJson(j, cfg);
  const hf = new HFTokenizer(j, cfg);

  it.each([...SENTENCES, 'Café déjà vu — naïve 😀 日本語', "  it's   spaced\n\n\tout  "])('matches the HF ids and round-trips %j', (s) => {
    expect(ours.encode(s)).toEqual(hfIds(hf, s));
    expect(ours.decode(ours.encode(s))).toBe(s);
  });
});
