// llama.cpp's own tokenizer conformance vectors (tests/test-tokenizer-0): every case of every
// vocab we have must encode to exactly llama.cpp's ids, and those ids must decode to the input.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/shared/errors.ts';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { ggufMetadata, vocabCases, vocabFile } from './helpers.ts';

const VOCABS = ['llama-spm', 'phi-3', 'gpt-2', 'deepseek-llm', 'falcon'];

describe.each(VOCABS)('ggml-vocab-%s', (name) => {
  const tok = tokenizerFromGGUF(ggufMetadata(vocabFile(name)));
  const cases = vocabCases(name);

  it('has all 46 cases', () => {
    expect(cases.length).toBe(46);
  });

  it.each(cases.map((c, i) => [i, c] as const))('case %i encodes like llama.cpp', (_i, c) => {
    expect(tok.encode(c.text, { parseSpecial: false })).toEqual(c.ids);
  });

  it('decodes llama.cpp ids back to every input', () => {
    for (const c of cases) expect(tok.decode(c.ids)).toBe(c.text);
  });
});

describe('unsupported vocab types', () => {
  it('rejects a WordPiece (bert) vocab with a typed error', () => {
    const meta = ggufMetadata(vocabFile('bert-bge'));
    expect(() => tokenizerFromGGUF(meta)).toThrow(EngineError);
    expect(() => tokenizerFromGGUF(meta)).toThrow(/bert/);
  });
});

describe('special ids and flags as llama.cpp loads them', () => {
  it('llama-spm: BOS 1, EOS 2, add_bos, EOG = {2}', () => {
    const t = tokenizerFromGGUF(ggufMetadata(vocabFile('llama-spm')));
    expect([t.bosId, t.eosId, t.addBos, t.addEos]).toEqual([1, 2, true, false]);
    expect([...t.eogIds]).toEqual([2]);
    expect(t.tokenType(0)).toBe('unknown');
    expect(t.tokenType(1)).toBe('control');
    expect(t.tokenType(3)).toBe('byte');
    expect(t.tokenText(3)).toBe('<0x00>');
  });

  it('gpt-2: BOS = EOS = EOT = 50256, no add_bos', () => {
    const t = tokenizerFromGGUF(ggufMetadata(vocabFile('gpt-2')));
    expect([t.bosId, t.eosId, t.eotId, t.addBos]).toEqual([50256, 50256, 50256, false]);
    expect(t.eogIds.has(50256)).toBe(true);
  });

  it('phi-3: <|end|> and <|endoftext|> end generation', () => {
    const t = tokenizerFromGGUF(ggufMetadata(vocabFile('phi-3')));
    expect(t.eogIds.has(t.tokenId('<|end|>')!)).toBe(true);
    expect(t.eogIds.has(32000)).toBe(true);
    expect(t.tokenType(32000)).toBe('control');
  });
});
