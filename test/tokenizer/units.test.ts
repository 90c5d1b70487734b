// Algorithms on small hand-made vocabularies (expected ids worked out by hand), loader checks,
// known ids from llama.cpp for the fixture models, and speed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GGUFValue } from '../../src/formats/gguf/header-parser.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { preTokenize, preTokenizerFor } from '../../src/tokenizer/pre-tokenizers.ts';
import { byteEncode } from '../../src/tokenizer/unicode.ts';
import { fixture } from '../fixtures.ts';
import { ggufMetadata, syntheticByteLevelVocab } from './helpers.ts';

const T = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER: 4, BYTE: 6 };

function spmMeta(tokens: [string, number, number][], extra: [string, GGUFValue][] = []): Map<string, GGUFValue> {
  return new Map<string, GGUFValue>([
    ['tokenizer.ggml.model', 'llama'],
    ['tokenizer.ggml.tokens', tokens.map((t) => t[0])],
    ['tokenizer.ggml.scores', Float32Array.from(tokens, (t) => t[1])],
    ['tokenizer.ggml.token_type', Int32Array.from(tokens, (t) => t[2])],
    ...extra,
  ]);
}

const SPM_BASE: [string, number, number][] = [
  ['<unk>', 0, T.UNKNOWN], ['<s>', 0, T.CONTROL], ['</s>', 0, T.CONTROL], ['<0x21>', 0, T.BYTE], ['<0xC3>', 0, T.BYTE],
  ['<0xA9>', 0, T.BYTE], ['\u2581', -1, T.NORMAL], ['a', -2, T.NORMAL], ['b', -2, T.NORMAL], ['c', -2, T.NORMAL],
  ['ab', -3, T.NORMAL], ['bc', -1, T.NORMAL], ['abc', -4, T.NORMAL], ['\u2581a', -5, T.NORMAL], ['<sep>', 0, T.USER],
];

describe('SPM merges by score', () => {
  const tok = tokenizerFromGGUF(spmMeta(SPM_BASE));

  it('prefers the higher-scoring pair, then keeps merging', () => {
    // "▁abc": pairs ▁a (-5), ab (-3), bc (-1) → bc first, then a+bc = abc; ▁+abc is no token
    expect(tok.encode('abc')).toEqual([6, 12]);
  });

  it('falls back to byte tokens for unknown characters', () => {
    expect(tok.encode('a!')).toEqual([13, 3]); // ▁a, <0x21>
    expect(tok.encode('é')).toEqual([6, 4, 5]); // ▁, <0xC3>, <0xA9>
    expect(tok.decode([6, 4, 5])).toBe('é');
  });

  it('splits out user-defined tokens always and control tokens only when parsing specials', () => {
    expect(tok.encode('a<sep>b')).toEqual([13, 14, 6, 8]); // space prefix again after the special
    expect(tok.encode('a</s>', { parseSpecial: true })).toEqual([13, 2]);
    expect(tok.encode('a</s>')).not.toContain(2);
  });

  it('tries longer special tokens first by UTF-8 bytes, not UTF-16 units', () => {
    // '本語' is 6 bytes (2 units), 'xy本' 5 bytes (3 units): llama.cpp splits '本語' out first
    const t = tokenizerFromGGUF(spmMeta([...SPM_BASE, ['本語', 0, T.USER], ['xy本', 0, T.USER]]));
    expect(t.encode('xy本語').map((id) => t.tokenText(id)).at(-1)).toBe('本語');
  });

  it('uses llama.cpp defaults: BOS 1, EOS 2, add_bos', () => {
    expect([tok.bosId, tok.eosId, tok.addBos, tok.addEos, [...tok.eogIds]]).toEqual([1, 2, true, false, [2]]);
  });

  it('honours add_space_prefix = false', () => {
    const t = tokenizerFromGGUF(spmMeta(SPM_BASE, [['tokenizer.ggml.add_space_prefix', false]]));
    expect(t.encode('abc')).toEqual([12]);
  });

  it('ignores "none" special ids (4294967295) and keeps the default', () => {
    const t = tokenizerFromGGUF(spmMeta(SPM_BASE, [['tokenizer.ggml.bos_token_id', 4294967295], ['tokenizer.ggml.eos_token_id', 1]]));
    expect([t.bosId, t.eosId]).toEqual([1, 1]);
  });
});

describe('byte-level BPE merges by rank', () => {
  const tokens = ['a', 'b', 'c', 'Ġ', 'ab', 'bc', 'abc', 'Ġa', '<|endoftext|>'];
  const meta = (merges: string[], pre = 'gpt-2') => new Map<string, GGUFValue>([
    ['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.pre', pre], ['tokenizer.ggml.tokens', tokens],
    ['tokenizer.ggml.token_type', Int32Array.from(tokens, (t) => (t.startsWith('<|') ? T.CONTROL : T.NORMAL))],
    ['tokenizer.ggml.merges', merges], ['tokenizer.ggml.eos_token_id', 8],
  ]);

  it('applies the lowest rank first', () => {
    expect(tokenizerFromGGUF(meta(['b c', 'a b'])).encode('abc')).toEqual([0, 5]); // bc wins; no "a bc" merge
    expect(tokenizerFromGGUF(meta(['b c', 'a b', 'a bc'])).encode('abc')).toEqual([6]);
  });

  it('uses the earlier merge when ranks decide differently', () => {
    expect(tokenizerFromGGUF(meta(['a b', 'b c', 'ab c'])).encode('abc')).toEqual([6]);
    expect(tokenizerFromGGUF(meta(['a b', 'b c'])).encode('abc')).toEqual([4, 2]);
  });

  it('maps the space through the GPT-2 byte table and undoes it on decode', () => {
    const t = tokenizerFromGGUF(meta(['Ġ a']));
    expect(t.encode(' a')).toEqual([7]);
    expect(t.decode([7, 1])).toBe(' ab');
    expect(byteEncode(' \n')).toBe('ĠĊ');
  });

  it('marks <|endoftext|> as EOT/EOG and BOS defaults like llama.cpp (id 11 → none here)', () => {
    const t = tokenizerFromGGUF(meta([]));
    expect([t.eotId, t.bosId, t.addBos, [...t.eogIds]]).toEqual([8, null, false, [8]]);
  });
});

describe('pre-tokenizers split like llama.cpp', () => {
  const split = (pre: string, s: string) => preTokenize(s, preTokenizerFor(pre)!.steps);
  it('gpt-2', () => {
    expect(split('gpt-2', "Hello world  it's 123!!\n\n x")).toEqual(['Hello', ' world', ' ', ' it', "'s", ' 123', '!!', '\n\n', ' x']);
  });
  it('llama3 (digits in threes, case-insensitive contractions, newlines)', () => {
    expect(split('llama-bpe', "I'M 1234567 ok\n\n  x")).toEqual(['I', "'M", ' ', '123', '456', '7', ' ok', '\n\n', ' ', ' x']);
  });
  it('qwen2 (single digits)', () => {
    expect(split('qwen2', 'ab 123')).toEqual(['ab', ' ', '1', '2', '3']);
  });
  it('qwen35 (combining marks stay in letter runs)', () => {
    expect(split('qwen35', 'cafe\u0301! \u0301x 12')).toEqual(['cafe\u0301', '!', ' \u0301x', ' ', '1', '2']);
    expect(split('qwen2', 'cafe\u0301!')).toEqual(['cafe', '\u0301!']);
  });
  it('gemma4 / granite-embed-multi-311m (newline runs only)', () => {
    expect(split('granite-embed-multi-311m', 'a b\n\n c\n')).toEqual(['a b', '\n\n', ' c', '\n']);
  });
  it('default (punctuation runs and digit triples split first)', () => {
    expect(split('default', 'x...12345')).toEqual(['x', '...', '123', '45']);
  });
});

describe('loader checks', () => {
  const bad = (m: Map<string, GGUFValue>) => () => tokenizerFromGGUF(m);
  it('rejects scores of the wrong length', () => {
    const m = spmMeta(SPM_BASE);
    m.set('tokenizer.ggml.scores', new Float32Array(3));
    expect(bad(m)).toThrow(EngineError);
    expect(bad(m)).toThrow(/15 tokens but 3 scores/);
  });
  it('rejects a missing token_type', () => {
    const m = spmMeta(SPM_BASE);
    m.delete('tokenizer.ggml.token_type');
    expect(bad(m)).toThrow(/token types/);
  });
  it('rejects duplicate tokens, empty vocabularies, unknown models and pre-tokenizers', () => {
    expect(bad(spmMeta([...SPM_BASE, ['a', 0, T.NORMAL]]))).toThrow(/twice/);
    expect(bad(spmMeta([]))).toThrow(/0 tokens/);
    const m = spmMeta(SPM_BASE);
    m.set('tokenizer.ggml.model', 'rwkv');
    expect(bad(m)).toThrow(/rwkv/);
    m.set('tokenizer.ggml.model', 'gpt2');
    m.set('tokenizer.ggml.pre', 'no-such-pre');
    expect(bad(m)).toThrow(/no-such-pre/);
  });
  it('requires a BOS id when add_bos is set', () => {
    const tokens = ['a', 'b'];
    const m = new Map<string, GGUFValue>([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.tokens', tokens],
      ['tokenizer.ggml.token_type', new Int32Array(2).fill(1)], ['tokenizer.ggml.merges', []], ['tokenizer.ggml.add_bos_token', true]]);
    expect(bad(m)).toThrow(/BOS/);
  });
  it('rejects out-of-range ids in the API', () => {
    const t = tokenizerFromGGUF(spmMeta(SPM_BASE));
    expect(() => t.tokenBytes(99)).toThrow(EngineError);
  });
});

describe('fixture models (ids from llama.cpp)', () => {
  const refs = JSON.parse(readFileSync(fixture('quant', 'llamacpp-refs.json'), 'utf8'));
  it('stories260K: "Once upon a time" → [403, 407, 261, 378]', () => {
    const t = tokenizerFromGGUF(ggufMetadata(fixture('models', 'stories260K.gguf')));
    expect(t.encode('Once upon a time')).toEqual([403, 407, 261, 378]);
    expect([t.bosId, ...t.encode('Once upon a time')]).toEqual(refs['stories260K.gguf'].promptIds);
    expect(t.addBos).toBe(true);
  });
  it('dev-gpt2vocab: "Once upon a time" → [7454, 2402, 257, 640], BOS 50256', () => {
    const t = tokenizerFromGGUF(ggufMetadata(fixture('quant', 'dev-gpt2vocab.Q4_0.gguf')));
    expect(t.encode('Once upon a time')).toEqual([7454, 2402, 257, 640]);
    expect(t.bosId).toBe(50256);
    expect([t.bosId, ...t.encode('Once upon a time')]).toEqual(refs['dev-gpt2vocab.Q4_0.gguf'].promptIds);
  });
});

describe('a 128k-token byte-level vocabulary', () => {
  // its build and encode times are bench/host-paths.ts' (npm run bench), not a bound here
  it('builds, knows every token, and round-trips text', () => {
    const meta = syntheticByteLevelVocab(128_000);
    const tokens = meta.get('tokenizer.ggml.tokens') as string[];
    const tok = tokenizerFromGGUF(meta);
    expect(tok.vocabSize).toBe(128_000);
    for (const id of [300, 5000, 127_999]) expect(tok.tokenId(tokens[id])).toBe(id);
    const text = ' hello world, 12 + 30 = 42\n';
    expect(tok.decode(tok.encode(text))).toBe(text);
  });
});
