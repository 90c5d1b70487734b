// The tokenizer.* GGUF metadata that llama.cpp's convert_hf_to_gguf.py writes for a folder with only a
// tokenizer.json (no tokenizer.model): for a SentencePiece-style BPE with byte fallback that is gguf-py's
// LlamaHfVocab (model 'llama', pre 'default', types NORMAL/CONTROL/BYTE; scores: see mergeScores) followed by
// SpecialVocab (special ids from tokenizer_config.json, then config.json; add_bos/add_eos from the
// post-processor's template, then tokenizer_config.json; the chat template).
import { UnsupportedError } from '../../shared/errors.ts';
import { ValueType } from '../gguf/constants.ts';
import type { WriterEntry } from '../gguf/writer.ts';
import { bpePreName, bpeVocab } from './gguf-vocab-gpt2.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);

/** gguf-py TokenType */
const NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, BYTE = 6;
const SPECIAL_TYPES = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'] as const;

/** gguf-py's key per special token type (its spelling) */
const ID_KEYS: Record<string, string | undefined> = {
  bos: 'tokenizer.ggml.bos_token_id', eos: 'tokenizer.ggml.eos_token_id', unk: 'tokenizer.ggml.unknown_token_id',
  sep: 'tokenizer.ggml.seperator_token_id', pad: 'tokenizer.ggml.padding_token_id', mask: 'tokenizer.ggml.mask_token_id',
};

const u32 = { type: ValueType.UINT32 };
const str = { type: ValueType.STRING };
const bool = { type: ValueType.BOOL };

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const c = obj(v)?.content;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Piece scores for llama.cpp's SentencePiece tokenizer, which merges the adjacent pair whose joined
 * piece scores highest. LlamaHfVocab writes -1000 for every piece, so llama.cpp then merges leftmost
 * first — not the tokenizer.json's BPE (TinyStories: different ids for "Once upon a time"). A piece
 * made by merge number r scores -r instead: the highest-scoring join is the earliest merge, as in BPE
 * (and as in the SentencePiece models these tokenizer.json files were made from). Bytes score 0,
 * control pieces -1000 as SentencePiece has them; pieces no merge makes -1e9, joined last if at all.
 */
function mergeScores(model: Json, vocab: Json, types: Int32Array): Float32Array {
  const scores = new Float32Array(types.length);
  const made = new Uint8Array(types.length);
  const merges = Array.isArray(model.merges) ? model.merges : [];
  for (let r = 0; r < merges.length; r++) {
    const m = merges[r];
    const joined = Array.isArray(m) ? m.join('') : String(m).replace(' ', '');
    const id = vocab[joined];
    if (typeof id === 'number' && !made[id]) { made[id] = 1; scores[id] = -r; }
  }
  for (let i = 0; i < types.length; i++) {
    if (made[i]) continue;
    scores[i] = types[i] === BYTE ? 0 : types[i] === CONTROL ? -1000 : -1e9;
  }
  return scores;
}

export interface HFVocabInput {
  readonly folder: string;
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
  readonly config: unknown;
  /** tokenizer_config.json's chat_template, or chat_template.jinja (as the folder reader found it) */
  readonly chatTemplate?: string;
  /** general.architecture: which of convert's vocabulary paths the family's set_vocab takes */
  readonly arch: string;
  /** config.json's vocab_size (the gpt2 path pads the token list to it) */
  readonly vocabSize?: number;
}

/** Families whose set_vocab goes to _set_vocab_gpt2 when the folder has no tokenizer.model. */
const GPT2_ONLY = new Set(['qwen2', 'qwen3', 'gemma3']);
/** Families whose convert class adds add_space_prefix = false after the SentencePiece vocabulary. */
const NO_SPACE_PREFIX = new Set(['gemma2', 'gemma3']);

/** tokenizer.* entries, in the order convert_hf_to_gguf.py adds them. */
export function hfVocabEntries({ folder, tokenizerJson, tokenizerConfig, config, chatTemplate, arch, vocabSize }: HFVocabInput): WriterEntry[] {
  const root = obj(tokenizerJson) ?? {};
  const model = obj(root.model) ?? {};
  const decoder = obj(root.decoder);
  const added = Array.isArray(root.added_tokens) ? root.added_tokens.map((a) => obj(a) ?? {}) : [];
  const cfg = obj(tokenizerConfig) ?? {};
  const hp = obj(config) ?? {};
  const entries: WriterEntry[] = [];
  let texts: string[];
  // LlamaHfVocab's own test (SentencePiece-style BPE with byte fallback, as Llama 2 and Mistral);
  // byte-level BPE (Llama 3, Qwen) and the families that never take LlamaHfVocab go to the gpt2 path
  const spm = model.type === 'BPE' && model.byte_fallback === true && decoder?.type === 'Sequence' && !GPT2_ONLY.has(arch);
  if (spm) {
    texts = [];
    const vocab = obj(model.vocab) ?? {};
    for (const t of Object.keys(vocab)) texts[vocab[t] as number] = t;
    const baseSize = texts.length;
    for (const a of added) if (typeof a.id === 'number' && typeof a.content === 'string') texts[a.id] = a.content;
    for (let i = 0; i < texts.length; i++) {
      if (texts[i] === undefined) throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}/tokenizer.json: no token has id ${i}; a GGUF vocabulary cannot have holes.`);
    }
    const idOf = (c: string | undefined) => (c === undefined ? undefined : added.find((a) => a.content === c)?.id as number | undefined);
    // transformers' all_special_ids: the named special tokens, plus added tokens flagged special
    const special = new Set<number>();
    for (const typ of SPECIAL_TYPES) { const id = idOf(tokenContent(cfg[`${typ}_token`])); if (id !== undefined) special.add(id); }
    for (const a of added) if (a.special === true && typeof a.id === 'number') special.add(a.id);
    const types = new Int32Array(texts.length);
    for (let i = 0; i < texts.length; i++) {
      if (/^<0x[0-9A-Fa-f]{2}>$/.test(texts[i])) types[i] = BYTE;
      else if (special.has(i)) types[i] = CONTROL;
      else types[i] = i >= baseSize ? USER_DEFINED : NORMAL;
    }
    if (typeof cfg.add_prefix_space === 'boolean') entries.push({ key: 'tokenizer.ggml.add_space_prefix', value: cfg.add_prefix_space, type: bool });
    entries.push(
      { key: 'tokenizer.ggml.model', value: 'llama', type: str },
      { key: 'tokenizer.ggml.pre', value: 'default', type: str },
      { key: 'tokenizer.ggml.tokens', value: texts, type: { type: ValueType.ARRAY, elemType: ValueType.STRING } },
      { key: 'tokenizer.ggml.scores', value: mergeScores(model, vocab, types), type: { type: ValueType.ARRAY, elemType: ValueType.FLOAT32 } },
      { key: 'tokenizer.ggml.token_type', value: types, type: { type: ValueType.ARRAY, elemType: ValueType.INT32 } },
    );
  } else {
    if (model.type !== 'BPE') throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}/tokenizer.json: a ${String(model.type)} tokenizer cannot be converted to GGUF yet (BPE tokenizers can).`);
    const pre = bpePreName(folder, root);
    const v = bpeVocab(folder, root, vocabSize ?? (typeof hp.vocab_size === 'number' ? hp.vocab_size : undefined));
    texts = v.tokens;
    entries.push(
      { key: 'tokenizer.ggml.model', value: 'gpt2', type: str },
      { key: 'tokenizer.ggml.pre', value: pre, type: str },
      { key: 'tokenizer.ggml.tokens', value: texts, type: { type: ValueType.ARRAY, elemType: ValueType.STRING } },
      { key: 'tokenizer.ggml.token_type', value: v.types, type: { type: ValueType.ARRAY, elemType: ValueType.INT32 } },
    );
    if (v.merges.length) entries.push({ key: 'tokenizer.ggml.merges', value: v.merges, type: { type: ValueType.ARRAY, elemType: ValueType.STRING } });
  }
  const idOfContent = (c: string | undefined) => (c === undefined ? undefined : added.find((a) => a.content === c)?.id as number | undefined);

  // SpecialVocab: first setting wins; ids must lie inside the vocabulary
  const ids = new Map<string, number>();
  const setId = (typ: string, id: unknown) => {
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < texts.length && !ids.has(typ)) ids.set(typ, id);
  };
  const addFlags = new Map<string, boolean>();
  const post = obj(root.post_processor);
  const procs = post ? (Array.isArray(post.processors) ? post.processors.map((p) => obj(p) ?? {}) : [post]) : [];
  const bosName = tokenContent(cfg.bos_token), eosName = tokenContent(cfg.eos_token);
  for (const p of procs) {
    if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single) || p.single.length < 2) continue;
    const specialId = (x: unknown) => { const id = obj(obj(x)?.SpecialToken)?.id; return typeof id === 'string' ? id : undefined; };
    const first = specialId(p.single[0]), last = specialId(p.single.at(-1));
    if (first) addFlags.set('bos', first === bosName || first === tokenContent(cfg.cls_token));
    if (last) addFlags.set('eos', last === eosName);
    // A [sep] [eos] B: add_sep when the pair template puts sep or eos between the sequences
    let pair = Array.isArray(p.pair) ? p.pair : [];
    if (pair.length && first && specialId(pair[0]) === first) pair = pair.slice(1);
    if (pair.length && last && specialId(pair.at(-1)) === last) pair = pair.slice(0, -1);
    const seqId = (x: unknown) => obj(obj(x)?.Sequence)?.id;
    if (pair.length > 2 && seqId(pair[0]) === 'A' && seqId(pair.at(-1)) === 'B') {
      const mid = pair.slice(1, -1).map(specialId), sepName = tokenContent(cfg.sep_token);
      const sepLike = (x: string | undefined) => x !== undefined && (x === sepName || x === eosName);
      addFlags.set('sep', (sepLike(mid[0]) && !last) || (mid.length === 2 && sepLike(mid[1])));
    }
  }
  for (const typ of SPECIAL_TYPES) {
    const flag = cfg[`add_${typ}_token`];
    if (typeof flag === 'boolean') addFlags.set(typ, flag);
    setId(typ, idOfContent(tokenContent(cfg[`${typ}_token`])));
  }
  for (const typ of SPECIAL_TYPES) setId(typ, hp[`${typ}_token_id`]);
  for (const [typ, id] of ids) {
    const key = ID_KEYS[typ];
    if (key) entries.push({ key, value: id, type: u32 }); // gguf-py has no cls handler and skips it
  }
  // gguf-py writes add_bos/add_eos/add_sep only (there are no add_unk/... keys llama.cpp reads)
  for (const [typ, v] of addFlags) if (typ === 'bos' || typ === 'eos' || typ === 'sep') entries.push({ key: `tokenizer.ggml.add_${typ}_token`, value: v, type: bool });
  if (NO_SPACE_PREFIX.has(arch) && spm && !entries.some((e) => e.key === 'tokenizer.ggml.add_space_prefix')) entries.push({ key: 'tokenizer.ggml.add_space_prefix', value: false, type: bool });
  if (chatTemplate !== undefined) entries.push({ key: 'tokenizer.chat_template', value: chatTemplate, type: str });
  return entries;
}
