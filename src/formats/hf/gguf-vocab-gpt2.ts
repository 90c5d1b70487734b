// convert_hf_to_gguf.py's byte-level BPE vocabulary (_set_vocab_gpt2 → get_vocab_base): tokens by id up
// to config.json's vocab_size ([PAD<id>] UNUSED in holes), added tokens CONTROL when special or when
// they look special (does_token_look_special), else USER_DEFINED with '▁' pre-normalized to ' ';
// tokenizer.json's merges (pairs joined by ' ', a space inside a part written as 'Ġ'). The
// tokenizer.ggml.pre name convert picks by hashing the tokenizer's output on a test text; we pick it
// from the pre-tokenizer's definition for the ones whose hash names we know, and refuse the rest.
import { UnsupportedError } from '../../shared/errors.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);

/** gguf-py TokenType */
const NORMAL = 1, UNUSED = 5, CONTROL = 3, USER_DEFINED = 4;

const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** regex of a Split + ByteLevel(use_regex false) sequence → the name convert's hash table gives it */
const BYTE_LEVEL_SPLITS = new Map([[LLAMA3, 'llama-bpe'], [QWEN2, 'qwen2']]);

/** tokenizer.ggml.pre as convert's hash table would name this tokenizer.json's pre-tokenizer. */
export function bpePreName(folder: string, root: Json): string {
  const p = obj(root.pre_tokenizer);
  const steps = p?.type === 'Sequence' && Array.isArray(p.pretokenizers) ? p.pretokenizers.map((s) => obj(s) ?? {}) : [];
  if (steps.length === 2 && steps[0].type === 'Split' && steps[1].type === 'ByteLevel' && steps[1].use_regex === false) {
    const name = BYTE_LEVEL_SPLITS.get(String(obj(steps[0].pattern)?.Regex));
    if (name) return name;
  }
  // Gemma 3's tokenizer.json: spaces made '▁' and split before each; convert's hash names it so
  const n = obj(root.normalizer);
  if (p?.type === 'Split' && obj(p.pattern)?.String === ' ' && p.behavior === 'MergedWithPrevious'
    && n?.type === 'Replace' && obj(n.pattern)?.String === ' ' && n.content === '\u2581') return 'granite-embed-multi-311m';
  throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}/tokenizer.json: its pre-tokenizer (${JSON.stringify(root.pre_tokenizer)?.slice(0, 120)}) is not one whose llama.cpp name is known (Llama 3, Qwen 2/3, Gemma 3 are); it cannot be converted to GGUF.`);
}

function looksSpecial(t: string): boolean {
  return ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t) || (t.startsWith('<|') && t.endsWith('|>'))
    || (t.startsWith('<\uff5c') && t.endsWith('\uff5c>')) || (t.startsWith('<unused') && t.endsWith('>'));
}

export interface BpeVocab { tokens: string[]; types: Int32Array; merges: string[] }

export function bpeVocab(folder: string, root: Json, vocabSize: number | undefined): BpeVocab {
  const model = obj(root.model) ?? {};
  const vocab = obj(model.vocab) ?? {};
  const byId = new Map<number, string>();
  for (const [t, id] of Object.entries(vocab)) byId.set(id as number, t);
  const added = new Map<number, Json>();
  for (const a of Array.isArray(root.added_tokens) ? root.added_tokens : []) {
    const x = obj(a);
    if (x && typeof x.id === 'number' && typeof x.content === 'string') { added.set(x.id, x); byId.set(x.id, x.content); }
  }
  let maxId = -1;
  for (const id of byId.keys()) if (id > maxId) maxId = id;
  const n = vocabSize ?? byId.size;
  if (maxId >= n) throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}/tokenizer.json: token id ${maxId} is beyond config.json's vocab_size ${n}.`);
  const tokens: string[] = new Array(n);
  const types = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let t = byId.get(i);
    if (t === undefined) { tokens[i] = `[PAD${i}]`; types[i] = UNUSED; continue; }
    const a = added.get(i);
    if (!a) types[i] = NORMAL;
    else if (a.special === true || looksSpecial(t)) types[i] = CONTROL;
    else { t = t.replaceAll('\u2581', ' '); types[i] = USER_DEFINED; }
    tokens[i] = t;
  }
  const raw = Array.isArray(model.merges) ? model.merges : [];
  const merges = raw.map((m) => (Array.isArray(m) ? m.map((p) => String(p).replaceAll(' ', '\u0120')).join(' ') : String(m)));
  return { tokens, types, merges };
}
