// The Tokenizer implementation shared by SPM and BPE vocabularies: special-token partitioning
// (llama.cpp's tokenizer_st_partition), per-token pieces and decoding. The model-specific part
// (how raw text becomes ids, how a normal token's text becomes bytes) is a TextModel.
import { EngineError } from '../shared/errors.ts';
import type { TokenType, Tokenizer } from './tokenizer.ts';
import { isCSpace, utf8Encode } from './unicode.ts';
import { ATTR, tokenTypeOf, type Vocab } from './vocab.ts';

export interface TextModel {
  /** Appends the ids of one raw-text fragment; `afterSpecial` is true at the start and after a special token. */
  encode(text: string, afterSpecial: boolean, out: number[]): void;
  /** Output bytes of a normal token's text. */
  normalBytes(text: string): Uint8Array;
}

export interface TokenizerConfig {
  bosId: number | null;
  eosId: number | null;
  eotId: number | null;
  eogIds: ReadonlySet<number>;
  addBos: boolean;
  addEos: boolean;
  /** SPM add_space_prefix: decode drops the first token's leading space */
  addSpacePrefix: boolean;
}

type Fragment = string | number;
const EMPTY = new Uint8Array(0);

export class VocabTokenizer implements Tokenizer {
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly eotId: number | null;
  readonly eogIds: ReadonlySet<number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  /** control/user-defined/unknown tokens, longest text first */
  private readonly specials: number[];
  private readonly pieces: (Uint8Array | undefined)[] = [];
  private readonly specialPieces: (Uint8Array | undefined)[] = [];

  constructor(private readonly vocab: Vocab, private readonly model: TextModel, cfg: TokenizerConfig) {
    this.bosId = cfg.bosId;
    this.eosId = cfg.eosId;
    this.eotId = cfg.eotId;
    this.eogIds = cfg.eogIds;
    this.addBos = cfg.addBos;
    this.addEos = cfg.addEos;
    this.addSpacePrefix = cfg.addSpacePrefix;
    this.specials = [];
    for (let id = 0; id < vocab.size; id++) {
      if (vocab.has(id, ATTR.CONTROL | ATTR.USER_DEFINED | ATTR.UNKNOWN)) this.specials.push(id);
    }
    // longest first in UTF-8 bytes, as llama.cpp orders them ('<｜end▁of▁sentence｜>' is 27 bytes, 19 UTF-16 units)
    const bytes = new Map(this.specials.map((id) => [id, utf8Encode(vocab.texts[id]).length]));
    this.specials.sort((a, b) => bytes.get(b)! - bytes.get(a)! || a - b);
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  encode(text: string, opts: { parseSpecial?: boolean } = {}): number[] {
    const out: number[] = [];
    if (text === '') return out;
    let afterSpecial = true;
    for (const f of this.partition(text, opts.parseSpecial ?? false)) {
      if (typeof f === 'number') {
        out.push(f);
        afterSpecial = true;
      } else {
        this.model.encode(f, afterSpecial, out);
        afterSpecial = false;
      }
    }
    return out;
  }

  /**
   * Splits text at occurrences of special tokens, longest token first. User-defined tokens are
   * always recognised; control and unknown tokens only when parsing special text.
   */
  private partition(text: string, parseSpecial: boolean): Fragment[] {
    let frags: Fragment[] = [text];
    for (const id of this.specials) {
      if (!parseSpecial && this.vocab.has(id, ATTR.CONTROL | ATTR.UNKNOWN)) continue;
      const tok = this.vocab.texts[id];
      if (!frags.some((f) => typeof f === 'string' && f.includes(tok))) continue;
      const next: Fragment[] = [];
      for (const f of frags) {
        if (typeof f === 'number') next.push(f);
        else this.splitOn(f, id, tok, next);
      }
      frags = next;
    }
    return frags;
  }

  private splitOn(text: string, id: number, tok: string, out: Fragment[]): void {
    const lstrip = this.vocab.has(id, ATTR.LSTRIP), rstrip = this.vocab.has(id, ATTR.RSTRIP);
    let pos = 0;
    for (let m = text.indexOf(tok); m >= 0; m = text.indexOf(tok, pos)) {
      let leftEnd = m;
      if (lstrip) while (leftEnd > pos && isCSpace(text[leftEnd - 1])) leftEnd--;
      if (leftEnd > pos) out.push(text.slice(pos, leftEnd));
      out.push(id);
      pos = m + tok.length;
      if (rstrip) while (pos < text.length && isCSpace(text[pos])) pos++;
    }
    if (pos < text.length) out.push(text.slice(pos));
  }

  tokenBytes(id: number, opts: { special?: boolean } = {}): Uint8Array {
    this.checkId(id);
    const cache = opts.special ? this.specialPieces : this.pieces;
    let p = cache[id];
    if (!p) cache[id] = p = this.piece(id, opts.special ?? false);
    return p;
  }

  /** llama.cpp's token_to_piece */
  private piece(id: number, special: boolean): Uint8Array {
    const attr = this.vocab.attrs[id];
    const text = this.vocab.texts[id];
    if (!special && attr & (ATTR.UNKNOWN | ATTR.CONTROL)) return EMPTY;
    if (attr & (ATTR.UNKNOWN | ATTR.CONTROL | ATTR.USER_DEFINED)) return utf8Encode(text);
    if (attr & ATTR.NORMAL) return this.model.normalBytes(text);
    if (attr & ATTR.BYTE) return Uint8Array.of(parseInt(text.slice(3, 5), 16));
    return EMPTY; // unused and undefined tokens print nothing
  }

  decode(ids: readonly number[], opts: { special?: boolean } = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      let p = this.tokenBytes(ids[i], opts);
      if (i === 0 && this.addSpacePrefix && p[0] === 0x20) p = p.subarray(1);
      parts.push(p);
      total += p.length;
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(all);
  }

  tokenText(id: number): string {
    this.checkId(id);
    return this.vocab.texts[id];
  }

  tokenType(id: number): TokenType {
    this.checkId(id);
    return tokenTypeOf(this.vocab.attrs[id]);
  }

  tokenId(text: string): number | undefined {
    return this.vocab.ids.get(text);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.size) {
      throw new EngineError('TOKENIZER', `Token id ${id} is outside the vocabulary (0..${this.vocab.size - 1}).`);
    }
  }
}
