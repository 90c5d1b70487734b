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

type PreTok =
  | { kind: 'byteLevel'; spec: PreTokenizerSpec; prefixSpace: boolean }
  | { kind: 'words'; split: (s: string) => string[] };

const WHOLE: PreTok = { kind: 'words', split: (s) => [s] };

/** A Split on a plain string, merged with the previous piece ("a b" → "a ", "b"). */
function splitAfter(sep: string): (s: string) => string[] {
  return (s) => {
    const out: string[] = [];
    let start = 0;
    for (let i = s.indexOf(sep); i >= 0; i = s.indexOf(sep, start)) {
      out.push(s.slice(start, i + sep.length));
      start = i + sep.length;
    }
    if (start < s.length) out.push(s.slice(start));
    return out;
  };
}

function preTokenizer(p: Json | null): PreTok {
  if (!p) return WHOLE;
  if (p.type === 'ByteLevel') {
    if (p.use_regex === false) return fail('tokenizer.json: ByteLevel without its regex is only supported after a Split.');
    return { kind: 'byteLevel', spec: preTokenizerFor('gpt-2')!, prefixSpace: p.add_prefix_space === true };
  }
  const sep = obj(p.pattern)?.String;
  if (p.type === 'Split' && typeof sep === 'string' && sep !== '' && p.behavior === 'MergedWithPrevious' && p.invert !== true) {
    return { kind: 'words', split: splitAfter(sep) };
  }
  const steps = list(p.pretokenizers);
  const split = steps[0], bl = steps[1];
  const pattern = obj(split?.pattern)?.Regex;
  const name = typeof pattern === 'string' ? SPLIT_PATTERNS.get(pattern) : undefined;
  if (p.type === 'Sequence' && steps.length === 2 && split.type === 'Split' && bl.type === 'ByteLevel' && name) {
    return { kind: 'byteLevel', spec: { steps: preTokenizerFor(name)!.steps }, prefixSpace: bl.add_prefix_space === true };
  }
  return fail(`tokenizer.json: the ${String(p.type)} pre-tokenizer is not supported.`);
}

interface SpmStyle {
  normalize: Normalizer;
  split: (s: string) => string[];
  unkId: number | null;
  decoderReplaces: readonly [string, string][];
}

function sentencePieceBpe(vocab: Vocab, merges: string[], model: Json, { normalize, split, unkId, decoderReplaces }: SpmStyle): TextModel {
  const ranks = buildMergeRanks(merges);
  // flags copied out: the closure must not keep tokenizer.json's vocab and merges alive
  const byteFallback = model.byte_fallback === true;
  const fuseUnk = model.fuse_unk === true;
  const ignoreMerges = model.ignore_merges === true;
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  return {
    encode(text, _afterSpecial, out) {
      for (const word of split(normalize(text))) {
        const whole = vocab.ids.get(word);
        if (ignoreMerges && whole !== undefined) { out.push(whole); continue; }
        for (const sym of bpeMerge(word, ranks)) {
          const id = vocab.ids.get(sym);
          if (id !== undefined) { out.push(id); continue; }
          const bytes = byteFallback ? Array.from(utf8Encode(sym), (b) => vocab.ids.get(hex(b))) : [];
          if (bytes.length > 0 && bytes.every((b) => b !== undefined)) out.push(...(bytes as number[]));
          else if (unkId !== null && !(fuseUnk && out[out.length - 1] === unkId)) out.push(unkId);
        }
      }
    },
    normalBytes: (t) => utf8Encode(decoderReplaces.reduce((s, [a, b]) => s.replaceAll(a, b), t)),
  };
}

function readTokens(model: Json, added: Json[]): string[] {
  const vocabObj = obj(model.vocab) ?? fail('tokenizer.json: model.vocab is missing.');
  // Object.keys, not Object.entries: a quarter of the time on a 262k-entry vocab
  const keys = Object.keys(vocabObj);
  const texts: string[] = new Array(keys.length);
  for (const t of keys) {
    const id = vocabObj[t];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 1 << 24) fail(`tokenizer.json: token ${JSON.stringify(t)} has an invalid id.`);
    texts[id as number] = t;
  }
  for (const a of added) if (typeof a.id === 'number' && typeof a.content === 'string') texts[a.id] = a.content;
  for (let i = 0; i < texts.length; i++) if (texts[i] === undefined) fail(`tokenizer.json: no token has id ${i}.`);
  return texts;
}

/**
 * Added tokens llama.cpp's converter (convert_hf_to_gguf's does_token_look_special) types CONTROL
 * although tokenizer.json calls them not special, so that they are only parsed on request.
 */
const looksSpecial = (t: string): boolean => ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t)
  || (t.startsWith('<|') && t.endsWith('|>')) || (t.startsWith('<\uFF5C') && t.endsWith('\uFF5C>'))
  || (t.startsWith('<unused') && t.endsWith('>'));

/** Whether the post-processor's single-sequence template starts / ends with the given special token. */
function templateAdds(post: Json | null, token: string | undefined): { first: boolean; last: boolean } {
  const procs = post?.type === 'Sequence' ? list(post.processors) : post ? [post] : [];
  const single = list(procs.find((p) => p.type === 'TemplateProcessing')?.single);
  const special = (x: Json | undefined) => { const id = obj(x?.SpecialToken)?.id; return typeof id === 'string' ? id : undefined; };
  return { first: token !== undefined && special(single[0]) === token, last: token !== undefined && special(single.at(-1)) === token };
}

function tokenName(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof obj(v)?.content === 'string' ? (obj(v)!.content as string) : undefined;
}

/** What the model around a tokenizer.json says about its vocabulary (a Hugging Face folder's config files). */
export interface HFVocabOptions {
  /**
   * rows of the model's embedding: ids the tokenizer lacks become unused `[PAD<id>]` tokens, and
   * added tokens beyond it are dropped, as convert_hf_to_gguf.py pads and truncates the vocabulary
   */
  readonly vocabSize?: number;
  /** more end-of-generation ids (generation_config.json's eos_token_id list) */
  readonly eogIds?: readonly number[];
}

/** tokenizer.json's tokens padded or cut to `size` ids (added tokens only may be cut). */
function fitTokens(texts: string[], added: Json[], size: number | undefined): { texts: string[]; added: Json[] } {
  if (size === undefined || size === texts.length) return { texts, added };
  if (size > texts.length) {
    for (let i = texts.length; i < size; i++) texts.push(`[PAD${i}]`);
    return { texts, added };
  }
  const addedIds = new Set(added.map((a) => a.id));
  for (let i = size; i < texts.length; i++) {
    if (!addedIds.has(i)) fail(`tokenizer.json has token id ${i} (${JSON.stringify(texts[i])}) but the model's embedding has only ${size} rows.`);
  }
  return { texts: texts.slice(0, size), added: added.filter((a) => typeof a.id === 'number' && a.id < size) };
}

export function tokenizerFromHFJson(tokenizerJson: unknown, tokenizerConfig?: unknown, opts: HFVocabOptions = {}): Tokenizer {
  const root = obj(tokenizerJson) ?? fail('tokenizer.json is not a JSON object.');
  const model = obj(root.model) ?? fail('tokenizer.json has no model.');
  if (model.type !== 'BPE') fail(`tokenizer.json: the ${String(model.type)} model is not supported (only BPE is).`);
  const all = list(root.added_tokens);
  const read = readTokens(model, all);
  const nRead = read.length;
  const { texts, added } = fitTokens(read, all, opts.vocabSize);
  const attrs = new Uint16Array(texts.length).fill(ATTR.NORMAL);
  for (let i = nRead; i < texts.length; i++) attrs[i] = ATTR.UNUSED;
  const preTok = preTokenizer(obj(root.pre_tokenizer));
  if (preTok.kind !== 'byteLevel' && model.byte_fallback === true) {
    texts.forEach((t, i) => { if (/^<0x[0-9A-F]{2}>$/.test(t)) attrs[i] = ATTR.BYTE; });
  }
  for (const a of added) {
    if (typeof a.id !== 'number') continue;
    const control = a.special === true || looksSpecial(String(a.content));
    attrs[a.id] = (control ? ATTR.CONTROL : ATTR.USER_DEFINED) | (a.lstrip ? ATTR.LSTRIP : 0) | (a.rstrip ? ATTR.RSTRIP : 0);
    // The converter also writes user-defined ▁ as spaces (Gemma's "▁▁"…): they then match spaces in
    // the raw text, and print as spaces.
    const spaced = texts[a.id].replaceAll('\u2581', ' ');
    if (!control && spaced !== texts[a.id] && !Object.hasOwn(obj(model.vocab)!, spaced)) texts[a.id] = spaced;
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
  for (const id of opts.eogIds ?? []) if (id >= 0 && id < texts.length) eogIds.add(id);
  const decoders = obj(root.decoder)?.type === 'Sequence' ? list(obj(root.decoder)!.decoders) : [obj(root.decoder) ?? {}];
  const strip = decoders.find((d) => d.type === 'Strip' && d.content === ' ' && Number(d.start) >= 1);
  const normalize = normalizer(obj(root.normalizer));
  let textModel: TextModel;
  if (preTok.kind === 'byteLevel') {
    const inner = bpeTextModel(vocab, merges, { ...preTok.spec, ignoreMerges: model.ignore_merges === true });
    const prefix = preTok.prefixSpace;
    // e.g. Qwen's NFC: HF normalizes, llama.cpp (on a GGUF of the same vocab) does not
    textModel = {
      ...inner,
      encode: (t, a, out) => { const n = normalize(t); inner.encode(prefix && !n.startsWith(' ') ? ' ' + n : n, a, out); },
    };
  } else {
    const decoderReplaces: [string, string][] = [];
    for (const d of decoders) {
      const from = obj(d.pattern)?.String;
      if (d.type === 'Replace' && typeof from === 'string') decoderReplaces.push([from, String(d.content)]);
    }
    textModel = sentencePieceBpe(vocab, merges, model, { normalize, split: preTok.split, unkId, decoderReplaces });
  }
  // tokenizer_config.json decides; without it, the post-processor's template (Llama 3 has only that)
  const template = templateAdds(obj(root.post_processor), tokenName(cfg.bos_token));
  const addBos = typeof cfg.add_bos_token === 'boolean' ? cfg.add_bos_token : template.first;
  const templateEos = templateAdds(obj(root.post_processor), tokenName(cfg.eos_token)).last;
  const addEos = typeof cfg.add_eos_token === 'boolean' ? cfg.add_eos_token : templateEos;
  return new VocabTokenizer(vocab, textModel, {
    bosId, eosId, eotId, eogIds,
    addBos: addBos && bosId !== null,
    addEos: addEos && eosId !== null,
    addSpacePrefix: strip !== undefined,
  });
}
