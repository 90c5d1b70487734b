// Builds a Tokenizer from a Hugging Face tokenizer.json (+ optional tokenizer_config.json).
// Supported: BPE models, either SentencePiece-style (normalizer Prepend/Replace "▁", byte_fallback
// <0xNN> tokens, decoder Replace/ByteFallback/Fuse/Strip) or GPT-2 byte-level (ByteLevel
// pre-tokenizer, optionally after a Split with the Llama 3 or Qwen2 pattern).
import { EngineError } from '../shared/errors.ts';
import { bpeMerge, bpeTextModel, buildMergeRanks } from './bpe.ts';
import { preTokenizerFor, type PreTokenizerSpec } from './pre-tokenizers.ts';
import type { Tokenizer } from './tokenizer.ts';
import { utf8Encode } from './unicode.ts';
import { ATTR, Vocab, detectSpecials } from './vocab.ts';
import { VocabTokenizer, type TextModel } from './vocab-tokenizer.ts';

type Json = Record<string, unknown>;
const fail = (msg: string): never => { throw new EngineError('TOKENIZER', msg); };
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map((x) => obj(x) ?? {}) : []);

// Split patterns of well-known byte-level tokenizers, mapped to llama.cpp's pre-tokenizers.
const SPLIT_PATTERNS = new Map<string, string>([
  ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", 'llama3'],
  ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", 'qwen2'],
]);

interface Normalizer { (s: string): string }

function normalizer(n: Json | null): Normalizer {
  if (!n) return (s) => s;
  switch (n.type) {
    case 'Sequence': {
      const steps = list(n.normalizers).map(normalizer);
      return (s) => steps.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend': return (s) => (s === '' ? s : String(n.prepend) + s);
    case 'Replace': {
      const from = obj(n.pattern)?.String;
      if (typeof from !== 'string') return fail('tokenizer.json: only plain-string Replace normalizers are supported.');
      return (s) => s.replaceAll(from, String(n.content));
    }
    case 'NFC': case 'NFKC': case 'NFD': case 'NFKD': return (s) => s.normalize(n.type as string);
    default: return fail(`tokenizer.json: the ${String(n.type)} normalizer is not supported.`);
  }
}

/** The byte-level pre-tokenizer spec, or null for "whole text is one word". */
function byteLevelSpec(p: Json | null): { spec: PreTokenizerSpec; prefixSpace: boolean } | null {
  if (!p) return null;
  if (p.type === 'ByteLevel') {
    if (p.use_regex === false) return fail('tokenizer.json: ByteLevel without its regex is only supported after a Split.');
    return { spec: preTokenizerFor('gpt-2')!, prefixSpace: p.add_prefix_space === true };
  }
  const steps = list(p.pretokenizers);
  const split = steps[0], bl = steps[1];
  const pattern = obj(split?.pattern)?.Regex;
  const name = typeof pattern === 'string' ? SPLIT_PATTERNS.get(pattern) : undefined;
  if (p.type === 'Sequence' && steps.length === 2 && split.type === 'Split' && bl.type === 'ByteLevel' && name) {
    return { spec: { steps: preTokenizerFor(name)!.steps }, prefixSpace: bl.add_prefix_space === true };
  }
  return fail(`tokenizer.json: the ${String(p.type)} pre-tokenizer is not supported.`);
}

interface SpmStyle { normalize: Normalizer; unkId: number | null; decoderReplaces: readonly [string, string][] }

function sentencePieceBpe(vocab: Vocab, merges: string[], model: Json, { normalize, unkId, decoderReplaces }: SpmStyle): TextModel {
  const ranks = buildMergeRanks(merges);
  const byteFallback = model.byte_fallback === true;
  const fuseUnk = model.fuse_unk === true;
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  return {
    encode(text, _afterSpecial, out) {
      const word = normalize(text);
      const whole = vocab.ids.get(word);
      if (model.ignore_merges === true && whole !== undefined) { out.push(whole); return; }
      for (const sym of bpeMerge(word, ranks)) {
        const id = vocab.ids.get(sym);
        if (id !== undefined) { out.push(id); continue; }
        const bytes = byteFallback ? Array.from(utf8Encode(sym), (b) => vocab.ids.get(hex(b))) : [];
        if (bytes.length > 0 && bytes.every((b) => b !== undefined)) out.push(...(bytes as number[]));
        else if (unkId !== null && !(fuseUnk && out[out.length - 1] === unkId)) out.push(unkId);
      }
    },
    normalBytes: (t) => utf8Encode(decoderReplaces.reduce((s, [a, b]) => s.replaceAll(a, b), t)),
  };
}

function readTokens(model: Json, added: Json[]): string[] {
  const vocabObj = obj(model.vocab) ?? fail('tokenizer.json: model.vocab is missing.');
  const texts: string[] = [];
  for (const [t, id] of Object.entries(vocabObj)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 1 << 24) fail(`tokenizer.json: token ${JSON.stringify(t)} has an invalid id.`);
    texts[id as number] = t;
  }
  for (const a of added) if (typeof a.id === 'number' && typeof a.content === 'string') texts[a.id] = a.content;
  for (let i = 0; i < texts.length; i++) if (texts[i] === undefined) fail(`tokenizer.json: no token has id ${i}.`);
  return texts;
}

function tokenName(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof obj(v)?.content === 'string' ? (obj(v)!.content as string) : undefined;
}

export function tokenizerFromHFJson(tokenizerJson: unknown, tokenizerConfig?: unknown): Tokenizer {
  const root = obj(tokenizerJson) ?? fail('tokenizer.json is not a JSON object.');
  const model = obj(root.model) ?? fail('tokenizer.json has no model.');
  if (model.type !== 'BPE') fail(`tokenizer.json: the ${String(model.type)} model is not supported (only BPE is).`);
  const added = list(root.added_tokens);
  const texts = readTokens(model, added);
  const attrs = new Uint16Array(texts.length).fill(ATTR.NORMAL);
  const byteLevel = byteLevelSpec(obj(root.pre_tokenizer));
  if (!byteLevel && model.byte_fallback === true) {
    texts.forEach((t, i) => { if (/^<0x[0-9A-F]{2}>$/.test(t)) attrs[i] = ATTR.BYTE; });
  }
  for (const a of added) {
    if (typeof a.id !== 'number') continue;
    attrs[a.id] = (a.special ? ATTR.CONTROL : ATTR.USER_DEFINED) | (a.lstrip ? ATTR.LSTRIP : 0) | (a.rstrip ? ATTR.RSTRIP : 0);
  }
  const vocab = new Vocab(texts, attrs);
  const unkName = typeof model.unk_token === 'string' ? model.unk_token : undefined;
  const unkId = unkName !== undefined ? vocab.ids.get(unkName) ?? null : null;
  if (unkId !== null) attrs[unkId] = ATTR.UNKNOWN;
  const rawMerges = Array.isArray(model.merges) ? model.merges : [];
  const merges = rawMerges.map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
  const cfg = obj(tokenizerConfig) ?? {};
  const idOf = (v: unknown) => { const n = tokenName(v); return n === undefined ? null : vocab.ids.get(n) ?? null; };
  const bosId = idOf(cfg.bos_token), eosId = idOf(cfg.eos_token);
  const { eotId, eogIds } = detectSpecials(vocab, eosId, null, null);
  const decoders = obj(root.decoder)?.type === 'Sequence' ? list(obj(root.decoder)!.decoders) : [obj(root.decoder) ?? {}];
  const strip = decoders.find((d) => d.type === 'Strip' && d.content === ' ' && Number(d.start) >= 1);
  let textModel: TextModel;
  if (byteLevel) {
    const inner = bpeTextModel(vocab, merges, { ...byteLevel.spec, ignoreMerges: model.ignore_merges === true });
    const prefix = byteLevel.prefixSpace;
    textModel = { ...inner, encode: (t, a, out) => inner.encode(prefix && !t.startsWith(' ') ? ' ' + t : t, a, out) };
  } else {
    const decoderReplaces: [string, string][] = [];
    for (const d of decoders) {
      const from = obj(d.pattern)?.String;
      if (d.type === 'Replace' && typeof from === 'string') decoderReplaces.push([from, String(d.content)]);
    }
    textModel = sentencePieceBpe(vocab, merges, model, { normalize: normalizer(obj(root.normalizer)), unkId, decoderReplaces });
  }
  return new VocabTokenizer(vocab, textModel, {
    bosId, eosId, eotId, eogIds,
    addBos: cfg.add_bos_token === true && bosId !== null,
    addEos: cfg.add_eos_token === true && eosId !== null,
    addSpacePrefix: strip !== undefined,
  });
}
