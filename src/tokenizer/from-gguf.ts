// Builds a Tokenizer from GGUF metadata (tokenizer.ggml.*), with llama.cpp's defaults and checks.
import type { GGUFValue } from '../formats/gguf/reader.ts';
import { EngineError } from '../shared/errors.ts';
import { bpeTextModel } from './bpe.ts';
import { preTokenizerFor } from './pre-tokenizers.ts';
import { spmTokenize, type SpmVocab } from './spm.ts';
import type { Tokenizer } from './tokenizer.ts';
import { utf8Encode } from './unicode.ts';
import { ATTR, Vocab, attrFromGGUFType, detectSpecials } from './vocab.ts';
import { VocabTokenizer, type TextModel } from './vocab-tokenizer.ts';

type Meta = ReadonlyMap<string, GGUFValue>;
const MAX_VOCAB = 1 << 24;
const fail = (msg: string): never => { throw new EngineError('TOKENIZER', msg); };

function numericArray(v: GGUFValue | undefined): ArrayLike<number> | undefined {
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint32Array
    || v instanceof Int16Array || v instanceof Uint16Array || v instanceof Int8Array || v instanceof Uint8Array) return v;
  return undefined;
}

function stringArray(meta: Meta, key: string): string[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(`GGUF key ${key} should be a list of strings.`);
  return v as string[];
}

/** A special-token id from metadata; 4294967295 / -1 / out of range mean "keep the default". */
function specialId(meta: Meta, key: string, def: number | null, size: number): number | null {
  if (def !== null && def >= size) def = null;
  const v = meta.get(key);
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= size) return def;
  return n;
}

const bool = (meta: Meta, key: string, def: boolean): boolean => {
  const v = meta.get(key);
  return typeof v === 'boolean' ? v : def;
};

function readVocab(meta: Meta): { vocab: Vocab; scores: ArrayLike<number> | undefined } {
  const tokens = stringArray(meta, 'tokenizer.ggml.tokens') ?? fail('The model has no vocabulary (tokenizer.ggml.tokens is missing).');
  const n = tokens.length;
  if (n === 0 || n > MAX_VOCAB) fail(`The vocabulary has ${n} tokens, which is not a plausible size; the model file is corrupt.`);
  const scores = numericArray(meta.get('tokenizer.ggml.scores'));
  if (meta.has('tokenizer.ggml.scores') && !scores) fail('tokenizer.ggml.scores should be a list of numbers.');
  if (scores && scores.length !== n) fail(`The vocabulary has ${n} tokens but ${scores.length} scores; the model file is corrupt.`);
  const types = numericArray(meta.get('tokenizer.ggml.token_type'));
  if (!types) fail('The vocabulary has no token types (tokenizer.ggml.token_type is missing or not a list of integers).');
  if (types!.length !== n) fail(`The vocabulary has ${n} tokens but ${types!.length} token types; the model file is corrupt.`);
  const attrs = new Uint16Array(n);
  for (let i = 0; i < n; i++) attrs[i] = attrFromGGUFType(types![i]);
  return { vocab: new Vocab(tokens, attrs), scores };
}

function spmModel(vocab: Vocab, scores: ArrayLike<number> | undefined, addSpacePrefix: boolean, unkId: number | null): TextModel {
  const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');
  const sv: SpmVocab = {
    tokenId: (t) => vocab.ids.get(t),
    score: (id) => (scores ? scores[id] : 0),
    byteToken: (b) => vocab.ids.get(`<0x${hex(b)}>`) ?? (b < 0x80 ? vocab.ids.get(String.fromCharCode(b)) : undefined) ?? unkId ?? undefined,
  };
  return {
    encode(text, afterSpecial, out) {
      const s = addSpacePrefix && afterSpecial ? ' ' + text : text;
      spmTokenize(s.replaceAll(' ', '\u2581'), sv, out);
    },
    normalBytes: (text) => utf8Encode(text.replaceAll('\u2581', ' ')),
  };
}

/** llama.cpp gives Phi-3's special tokens (and </s>) rstrip, except <unk>, <s> and <|endoftext|>. */
function applyPhi3Rstrip(meta: Meta, vocab: Vocab): void {
  const name = meta.get('general.name');
  if (typeof name !== 'string' || !/phi-?3/.test(name.toLowerCase())) return;
  for (let id = 0; id < vocab.size; id++) {
    if (vocab.has(id, ATTR.CONTROL | ATTR.USER_DEFINED | ATTR.UNKNOWN)) vocab.attrs[id] |= ATTR.RSTRIP;
  }
  const set = (t: string, on: boolean) => {
    const id = vocab.ids.get(t);
    if (id !== undefined) vocab.attrs[id] = on ? vocab.attrs[id] | ATTR.RSTRIP : vocab.attrs[id] & ~ATTR.RSTRIP;
  };
  set('</s>', true);
  for (const t of ['<unk>', '<s>', '<|endoftext|>']) set(t, false);
}

export function tokenizerFromGGUF(metadata: Map<string, GGUFValue>): Tokenizer {
  const kind = metadata.get('tokenizer.ggml.model');
  if (typeof kind !== 'string') fail('The model has no tokenizer (tokenizer.ggml.model is missing).');
  if (kind !== 'llama' && kind !== 'gpt2' && kind !== 'gemma4') {
    fail(`The tokenizer type '${String(kind)}' is not supported (only 'llama' SentencePiece and 'gpt2'/'gemma4' BPE are).`);
  }
  const spm = kind === 'llama';
  // llama.cpp ignores tokenizer.ggml.pre for a 'gemma4' vocab and has no default special ids for it
  const gemma4 = kind === 'gemma4';
  const preName = gemma4 ? 'gemma4' : metadata.get('tokenizer.ggml.pre');
  const pre = spm ? undefined : preTokenizerFor(typeof preName === 'string' ? preName : undefined)
    ?? fail(`The pre-tokenizer '${String(preName)}' is not supported.`);
  const { vocab, scores } = readVocab(metadata);
  const n = vocab.size;
  const bosDefault = spm ? 1 : pre!.noBos || gemma4 ? null : 11; // llama.cpp's defaults per tokenizer type
  const bosId = specialId(metadata, 'tokenizer.ggml.bos_token_id', bosDefault, n);
  const eosId = specialId(metadata, 'tokenizer.ggml.eos_token_id', spm ? 2 : gemma4 ? null : 11, n);
  const unkId = specialId(metadata, 'tokenizer.ggml.unknown_token_id', spm ? 0 : null, n);
  const { eotId, eogIds } = detectSpecials(vocab, eosId,
    specialId(metadata, 'tokenizer.ggml.eot_token_id', null, n), specialId(metadata, 'tokenizer.ggml.eom_token_id', null, n));
  applyPhi3Rstrip(metadata, vocab);
  const addSpacePrefix = bool(metadata, 'tokenizer.ggml.add_space_prefix', spm);
  // llama.cpp forces add_bos for SentencePiece-style BPE (Gemma 4, PR #21500)
  const addBos = pre?.spmStyle || bool(metadata, 'tokenizer.ggml.add_bos_token', spm || (pre!.addBos ?? false));
  const addEos = bool(metadata, 'tokenizer.ggml.add_eos_token', false);
  if (addBos && bosId === null) fail('The tokenizer asks for a BOS token but does not define one.');
  if (addEos && eosId === null) fail('The tokenizer asks for an EOS token but does not define one.');
  let model: TextModel;
  if (spm) {
    model = spmModel(vocab, scores, addSpacePrefix, unkId);
  } else {
    const merges = stringArray(metadata, 'tokenizer.ggml.merges') ?? fail('The BPE tokenizer has no merges (tokenizer.ggml.merges is missing).');
    model = bpeTextModel(vocab, merges, pre!);
  }
  return new VocabTokenizer(vocab, model, { bosId, eosId, eotId, eogIds, addBos, addEos, addSpacePrefix });
}
