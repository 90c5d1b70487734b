// Streaming detokenizer: ids pushed one at a time must give back exactly decode()'s text, never
// emitting half of a UTF-8 sequence that byte tokens split (emoji, CJK, Khmer).
import { describe, expect, it } from 'vitest';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import { createStreamDecoder, type Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { fixture } from '../fixtures.ts';
import { ggufMetadata, hfTokenizerFiles, vocabFile } from './helpers.ts';

const TEXTS = [
  'Llamas 🦙🦙 and 👩‍👩‍👧‍👦 families',
  '日本語のテキスト、中文文本和한국어',
  'ស្រុកខ្មែរ 🏳️‍🌈 Привет ✅',
];

function stream(tok: Tokenizer, ids: number[], strip: boolean): string[] {
  const dec = createStreamDecoder(tok, { stripLeadingSpace: strip });
  const chunks = ids.map((id) => dec.push(id));
  chunks.push(dec.flush());
  return chunks;
}

describe.each([['llama-spm', true], ['gpt-2', false]] as const)('%s', (name, spm) => {
  const tok = tokenizerFromGGUF(ggufMetadata(vocabFile(name)));

  it('splits some characters across several tokens (so the test means something)', () => {
    const ids = tok.encode(TEXTS[0]);
    const partial = ids.filter((id) => new TextDecoder().decode(tok.tokenBytes(id)).includes('\uFFFD'));
    expect(partial.length).toBeGreaterThan(2);
  });

  it.each(TEXTS)('streams %s without broken sequences', (text) => {
    const ids = tok.encode(text);
    const chunks = stream(tok, ids, spm);
    for (const c of chunks) expect(c).not.toContain('\uFFFD');
    expect(chunks.join('')).toBe(tok.decode(ids));
    expect(chunks.join('')).toBe(text);
  });

  it('strips the first piece after BOS only when asked', () => {
    if (tok.bosId === null) return;
    const ids = [tok.bosId, ...tok.encode('Hello world')];
    expect(stream(tok, ids, true).join('')).toBe('Hello world');
    expect(stream(tok, ids, false).join('')).toBe(spm ? ' Hello world' : 'Hello world');
  });
});

// The real vocabularies: byte-level BPE (Llama 3.2, Qwen3), SentencePiece-style BPE whose <0xNN>
// tokens the GGUF types NORMAL (Gemma 3), and Gemma 3 / Mistral from tokenizer.json.
const REAL: [string, () => Tokenizer][] = [
  ['Llama 3.2 GGUF', () => tokenizerFromGGUF(ggufMetadata(fixture('arch', 'dev-llama32.Q8_0.gguf')))],
  ['Qwen3 GGUF', () => tokenizerFromGGUF(ggufMetadata(fixture('arch', 'dev-qwen3.Q8_0.gguf')))],
  ['Gemma 3 GGUF', () => tokenizerFromGGUF(ggufMetadata(fixture('arch', 'dev-gemma3.Q8_0.gguf')))],
  ['Gemma 3 tokenizer.json', () => { const f = hfTokenizerFiles('gemma3'); return tokenizerFromHFJson(f.json, f.config); }],
  ['Mistral tokenizer.json', () => { const f = hfTokenizerFiles('llama2'); return tokenizerFromHFJson(f.json, f.config); }],
];
const RARE = '𓀀𓁐 ꙮ 🫎🪿 ᚠᛇᚻ 𝔘𝔫𝔦 ⿰⿱ 😶‍🌫️ ស្រុកខ្មែរ';

describe.each(REAL)('%s', (_name, make) => {
  const tok = make();

  it('streams rare characters split over byte tokens without broken sequences', () => {
    const ids = tok.encode(RARE);
    const partial = ids.filter((id) => new TextDecoder().decode(tok.tokenBytes(id)).includes('\uFFFD'));
    expect(partial.length).toBeGreaterThan(2);
    const chunks = stream(tok, ids, tok.addSpacePrefix);
    for (const c of chunks) expect(c).not.toContain('\uFFFD');
    expect(chunks.join('')).toBe(tok.decode(ids));
    expect(chunks.join('')).toBe(RARE);
  });

  it.each(TEXTS)('streams %s', (text) => {
    expect(stream(tok, tok.encode(text), tok.addSpacePrefix).join('')).toBe(text);
  });
});

describe('stream decoder edge cases', () => {
  const tok = tokenizerFromGGUF(ggufMetadata(vocabFile('llama-spm')));
  const byte = (b: number) => tok.tokenId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)!;

  it('holds back a partial emoji and releases it when complete', () => {
    const dec = createStreamDecoder(tok);
    const bytes = [0xf0, 0x9f, 0xa6, 0x99]; // U+1F999
    expect(bytes.slice(0, 3).map((b) => dec.push(byte(b)))).toEqual(['', '', '']);
    expect(dec.push(byte(bytes[3]))).toBe('🦙');
    expect(dec.flush()).toBe('');
  });

  it('turns an unfinished sequence into U+FFFD on flush', () => {
    const dec = createStreamDecoder(tok);
    expect(dec.push(byte(0xe6))).toBe('');
    expect(dec.push(byte(0x97))).toBe('');
    expect(dec.flush()).toBe('\uFFFD');
  });

  it('hides control tokens unless special is set', () => {
    expect(createStreamDecoder(tok).push(2)).toBe('');
    expect(createStreamDecoder(tok, { special: true }).push(2)).toBe('</s>');
  });
});
