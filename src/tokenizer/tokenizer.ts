// Public tokenizer contract used by the engine, CLI and UI worker, plus the streaming detokenizer.
// Builders: tokenizerFromGGUF (GGUF metadata) and tokenizerFromHFJson (Hugging Face tokenizer.json).

export type TokenType = 'normal' | 'unknown' | 'control' | 'user_defined' | 'unused' | 'byte';

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly eotId: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** SentencePiece-style: text gets a leading '▁', so the first word's space is dropped on output */
  readonly addSpacePrefix: boolean;
  /** end-of-generation ids: eos, eot, and control tokens such as <|eot_id|>, <|im_end|>, <|end_of_text|>, <end_of_turn> */
  readonly eogIds: ReadonlySet<number>;
  /** Text → ids. Never adds BOS/EOS (callers do, per addBos). parseSpecial: recognise control/user-defined token text like "<|im_start|>". */
  encode(text: string, opts?: { parseSpecial?: boolean }): number[];
  /** Raw bytes of one token as it contributes to output text (byte tokens → their byte, SPM '▁' → space, GPT-2 byte-level map undone; control tokens → empty unless `special`). */
  tokenBytes(id: number, opts?: { special?: boolean }): Uint8Array;
  /** Like llama.cpp's detokenize: when the vocab adds a space prefix, the first token's leading space is dropped. */
  decode(ids: readonly number[], opts?: { special?: boolean }): string;
  tokenText(id: number): string;
  tokenType(id: number): TokenType;
  tokenId(text: string): number | undefined;
}

export interface StreamDecoder {
  /** Text completed by this token; bytes of an unfinished UTF-8 sequence are held back. */
  push(id: number): string;
  /** Whatever is still held back (an incomplete sequence becomes U+FFFD). */
  flush(): string;
}

/**
 * Streaming detokenizer. `stripLeadingSpace` drops one leading space from the first non-empty
 * piece, which is what llama.cpp does for SPM vocabs with add_space_prefix (e.g. the first
 * generated word after BOS); pass `tokenizer.decode`'s rule in by setting it for such vocabs.
 * `specialIds`: control tokens shown even without `special` (llama.cpp's preserved tokens).
 */
export function createStreamDecoder(t: Tokenizer,
  opts: { special?: boolean; specialIds?: ReadonlySet<number>; stripLeadingSpace?: boolean } = {}): StreamDecoder {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const special = opts.special ?? false;
  const shown = opts.specialIds;
  let strip = opts.stripLeadingSpace ?? false;
  return {
    push(id: number): string {
      let bytes = t.tokenBytes(id, { special: special || (shown?.has(id) ?? false) });
      if (bytes.length === 0) return '';
      if (strip) {
        strip = false;
        if (bytes[0] === 0x20) bytes = bytes.subarray(1);
      }
      return decoder.decode(bytes, { stream: true });
    },
    flush(): string {
      return decoder.decode();
    },
  };
}

export { tokenizerFromGGUF } from './from-gguf.ts';
export { tokenizerFromHFJson } from './from-hf-json.ts';
