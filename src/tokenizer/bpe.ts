// Rank-driven BPE merge of one pre-tokenized word, as llama.cpp's llm_tokenizer_bpe_session and
// Hugging Face's BPE model do it: repeatedly merge the adjacent pair with the lowest merge rank,
// leftmost first on ties.
import { Heap } from './heap.ts';
import { preTokenize, type PreTokenizerSpec } from './pre-tokenizers.ts';
import { byteEncode, unicodeToByte, utf8Encode } from './unicode.ts';
import type { Vocab } from './vocab.ts';
import type { TextModel } from './vocab-tokenizer.ts';

/** "left right" → rank; the first occurrence of a pair wins, as in llama.cpp. */
export function buildMergeRanks(merges: readonly string[]): Map<string, number> {
  const ranks = new Map<string, number>();
  // backwards, so the earliest duplicate is written last: one hash operation per merge
  for (let i = merges.length - 1; i >= 0; i--) {
    const m = merges[i];
    // a merge without a separator can never match two non-empty symbols
    if (m.indexOf(' ', 1) > 0) ranks.set(m, i);
  }
  return ranks;
}

interface Bigram { left: number; right: number; rank: number; text: string }

const bigramBefore = (a: Bigram, b: Bigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

/** Merges the symbols (initially one per codepoint) of `word`; returns the final symbol strings. */
export function bpeMerge(word: string, ranks: ReadonlyMap<string, number>): string[] {
  const syms = Array.from(word);
  const n = syms.length;
  if (n <= 1) return syms;
  const prev = new Int32Array(n), next = new Int32Array(n);
  for (let i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
  const queue = new Heap<Bigram>(bigramBefore);
  const tryAdd = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const rank = ranks.get(`${syms[l]} ${syms[r]}`);
    if (rank !== undefined) queue.push({ left: l, right: r, rank, text: syms[l] + syms[r] });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  for (let b = queue.pop(); b; b = queue.pop()) {
    const l = syms[b.left], r = syms[b.right];
    if (l === '' || r === '' || l + r !== b.text) continue; // stale
    syms[b.left] = b.text;
    syms[b.right] = '';
    next[b.left] = next[b.right];
    if (next[b.right] >= 0) prev[next[b.right]] = b.left;
    tryAdd(prev[b.left], b.left);
    tryAdd(b.left, next[b.left]);
  }
  return syms.filter((s) => s !== '');
}

const hexByte = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
const allNewlines = (w: string) => /^\n+$/.test(w);
const isHexByte = (t: string) => /^<0x[0-9A-F]{2}>$/.test(t);

/**
 * llama.cpp's BPE tokenizer session as a TextModel: pre-tokenize, then merge each word. Byte-level
 * (GPT-2 map) by default; with `spec.spmStyle` spaces become U+2581 and raw UTF-8 is merged.
 */
export function bpeTextModel(vocab: Vocab, merges: readonly string[], spec: PreTokenizerSpec): TextModel {
  const ranks = buildMergeRanks(merges);
  const spm = spec.spmStyle === true;
  const cache = new Map<string, number[]>();
  const wordIds = (word: string): number[] => {
    const whole = vocab.ids.get(word);
    if (whole !== undefined && (spec.ignoreMerges || (spm && allNewlines(word)))) return [whole];
    const ids: number[] = [];
    for (const sym of bpeMerge(word, ranks)) {
      const id = vocab.ids.get(sym);
      if (id !== undefined) { ids.push(id); continue; }
      // Byte by byte: <0xNN> tokens for SPM-style vocabs; in byte-level ones only an ASCII byte of
      // the mapped text can be a token on its own. Bytes without a token are dropped, as in llama.cpp.
      for (const b of utf8Encode(sym)) {
        const bid = spm ? vocab.ids.get(hexByte(b)) : b < 0x80 ? vocab.ids.get(String.fromCharCode(b)) : undefined;
        if (bid !== undefined) ids.push(bid);
      }
    }
    return ids;
  };
  const u2b = unicodeToByte();
  return {
    encode(text, _afterSpecial, out) {
      for (const w of preTokenize(spm ? text.replaceAll(' ', '\u2581') : text, spec.steps)) {
        const key = spm ? w : byteEncode(w);
        let ids = cache.get(key);
        if (!ids) {
          if (cache.size > 50_000) cache.clear();
          cache.set(key, ids = wordIds(key));
        }
        for (const id of ids) out.push(id);
      }
    },
    normalBytes(text) {
      if (spm) {
        // A GGUF converted from tokenizer.json types the <0xNN> tokens NORMAL, and llama.cpp then
        // prints "<0xF0>"; we print the byte, as the tokenizer's own ByteFallback decoder does.
        if (isHexByte(text)) return Uint8Array.of(parseInt(text.slice(3, 5), 16));
        return utf8Encode(text.replaceAll('\u2581', ' '));
      }
      const bytes: number[] = [];
      for (const c of text) {
        const b = u2b.get(c);
        if (b !== undefined) bytes.push(b);
        else bytes.push(...utf8Encode(c));
      }
      return Uint8Array.from(bytes);
    },
  };
}
