// Token table shared by every tokenizer model: texts, llama.cpp-style attribute bits, text→id
// map, and the special-token bookkeeping llama.cpp does at load time (EOT/EOG detection).
import { EngineError } from '../shared/errors.ts';
import type { TokenType } from './tokenizer.ts';

/** llama.cpp's llama_token_attr bits */
export const ATTR = {
  UNDEFINED: 0, UNKNOWN: 1, UNUSED: 2, NORMAL: 4, CONTROL: 8, USER_DEFINED: 16, BYTE: 32, LSTRIP: 128, RSTRIP: 256,
} as const;

/** GGUF tokenizer.ggml.token_type values → attribute bits */
export function attrFromGGUFType(t: number): number {
  switch (t) {
    case 1: return ATTR.NORMAL;
    case 2: return ATTR.UNKNOWN;
    case 3: return ATTR.CONTROL;
    case 4: return ATTR.USER_DEFINED;
    case 5: return ATTR.UNUSED;
    case 6: return ATTR.BYTE;
    default: return ATTR.UNDEFINED;
  }
}

export function tokenTypeOf(attr: number): TokenType {
  if (attr & ATTR.BYTE) return 'byte';
  if (attr & ATTR.CONTROL) return 'control';
  if (attr & ATTR.USER_DEFINED) return 'user_defined';
  if (attr & ATTR.UNKNOWN) return 'unknown';
  if (attr & ATTR.NORMAL) return 'normal';
  return 'unused';
}

export class Vocab {
  readonly ids = new Map<string, number>();
  readonly texts: string[];

  constructor(texts: readonly string[], readonly attrs: Uint16Array) {
    this.texts = texts.slice();
    for (let i = 0; i < this.texts.length; i++) {
      // llama.cpp renames empty tokens so they stay addressable and never match text
      if (this.texts[i] === '') this.texts[i] = `[EMPTY_${i}]`;
      const prev = this.ids.get(this.texts[i]);
      if (prev !== undefined) {
        throw new EngineError('TOKENIZER', `The vocabulary lists the token ${JSON.stringify(this.texts[i])} twice (ids ${prev} and ${i}); the model file is corrupt.`);
      }
      this.ids.set(this.texts[i], i);
    }
  }

  get size(): number {
    return this.texts.length;
  }

  has(id: number, bits: number): boolean {
    return (this.attrs[id] & bits) !== 0;
  }
}

// Token texts llama.cpp (as bundled with node-llama-cpp 3.22) treats as end-of-turn /
// end-of-generation when the file does not say.
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<EOT>',
  '_<EOT>', '[EOT]', '<｜end▁of▁sentence｜>', '<end_of_utterance>'];
const EOG_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>',
  '<|endoftext|>', '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>', '<eos>',
  '<turn|>', '<|tool_response>', '<｜end▁of▁sentence｜>', '[e~['];
// FIM pad / repo / file-separator tokens also end generation.
const FIM_EOG_TEXTS = [['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]'],
  ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'], ['<|file_sep|>']];
// gpt-oss channel markers are always rendered
const ALWAYS_RENDERED = ['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>'];

export interface SpecialIds { eotId: number | null; eomId: number | null; eogIds: Set<number> }

/**
 * Finds EOT/EOM/EOG tokens by text where the metadata is silent, marks them as control tokens,
 * flags control tokens named "...unused..." as unused, and applies llama.cpp's per-model
 * workarounds (harmony's <|end|>, gemma's </s>), all as llama.cpp's vocab loader does.
 */
export function detectSpecials(v: Vocab, eosId: number | null, eotId: number | null, eomId: number | null): SpecialIds {
  const markControl = (id: number) => { v.attrs[id] |= ATTR.CONTROL; };
  const firstOf = (texts: readonly string[]) => {
    for (const t of texts) { const id = v.ids.get(t); if (id !== undefined) return id; }
    return null;
  };
  if (eotId === null) { eotId = firstOf(EOT_TEXTS); if (eotId !== null) markControl(eotId); }
  if (eomId === null) { eomId = firstOf(['<|eom_id|>']); if (eomId !== null) markControl(eomId); }
  const eogIds = new Set<number>();
  for (const texts of FIM_EOG_TEXTS) {
    const id = firstOf(texts);
    if (id !== null) { eogIds.add(id); markControl(id); }
  }
  for (let id = 0; id < v.size; id++) {
    if (v.has(id, ATTR.CONTROL) && v.texts[id].includes('unused')) v.attrs[id] |= ATTR.UNUSED;
  }
  for (const t of EOG_TEXTS) {
    const id = v.ids.get(t);
    if (id !== undefined) { eogIds.add(id); markControl(id); }
  }
  for (const t of ALWAYS_RENDERED) {
    const id = v.ids.get(t);
    if (id !== undefined) v.attrs[id] = ATTR.USER_DEFINED;
  }
  for (const id of [eosId, eotId, eomId]) if (id !== null) eogIds.add(id);
  const has = (t: string) => { const id = v.ids.get(t); return id !== undefined && eogIds.has(id); };
  const demote = (t: string, attr: number) => { const id = v.ids.get(t)!; eogIds.delete(id); v.attrs[id] = attr; };
  if (has('<|end|>') && ((has('<|return|>') && (has('<|call|>') || has('<|calls|>'))) || ((has('<|call|>') || has('<|calls|>')) && has('<|flush|>')))) {
    demote('<|end|>', ATTR.USER_DEFINED);
  }
  if (has('<|tool_response>') && has('</s>')) demote('</s>', ATTR.NORMAL);
  return { eotId, eomId, eogIds };
}
