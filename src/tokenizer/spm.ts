// SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm does it: start from UTF-8 characters,
// repeatedly merge the adjacent pair whose concatenation is a vocab token with the highest score
// (leftmost first on ties); characters that never form a token fall back to <0xNN> byte tokens.
import { Heap } from './heap.ts';
import { utf8Encode } from './unicode.ts';

export interface SpmVocab {
  tokenId(text: string): number | undefined;
  score(id: number): number;
  /** token for one byte (<0xNN>, else the 1-char token), undefined if neither exists */
  byteToken(byte: number): number | undefined;
}

interface Bigram { left: number; right: number; score: number; size: number }

const bigramBefore = (a: Bigram, b: Bigram) => a.score > b.score || (a.score === b.score && a.left < b.left);

/** Tokenizes already-escaped text (spaces replaced by U+2581) and appends ids to `out`. */
export function spmTokenize(text: string, vocab: SpmVocab, out: number[]): void {
  const syms = Array.from(text);
  const n = syms.length;
  if (n === 0) return;
  const prev = new Int32Array(n), next = new Int32Array(n);
  for (let i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
  const queue = new Heap<Bigram>(bigramBefore);
  const tryAdd = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const id = vocab.tokenId(syms[l] + syms[r]);
    if (id === undefined) return;
    queue.push({ left: l, right: r, score: vocab.score(id), size: syms[l].length + syms[r].length });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  for (let b = queue.pop(); b; b = queue.pop()) {
    const l = syms[b.left], r = syms[b.right];
    // skip pairs whose symbols changed since the pair was queued
    if (l === '' || r === '' || l.length + r.length !== b.size) continue;
    syms[b.left] = l + r;
    syms[b.right] = '';
    next[b.left] = next[b.right];
    if (next[b.right] >= 0) prev[next[b.right]] = b.left;
    tryAdd(prev[b.left], b.left);
    tryAdd(b.left, next[b.left]);
  }
  for (let i = 0; i !== -1; i = next[i]) {
    const id = vocab.tokenId(syms[i]);
    if (id !== undefined) { out.push(id); continue; }
    // Every merged symbol is a token, so only single characters get here.
    for (const byte of utf8Encode(syms[i])) {
      const bt = vocab.byteToken(byte);
      if (bt !== undefined) out.push(bt);
    }
  }
}
