// Rank-driven BPE merge of one pre-tokenized word, as llama.cpp's llm_tokenizer_bpe_session and
// Hugging Face's BPE model do it: repeatedly merge the adjacent pair with the lowest merge rank,
// leftmost first on ties.
import { Heap } from './heap.ts';

/** "left right" → rank; the first occurrence of a pair wins, as in llama.cpp. */
export function buildMergeRanks(merges: readonly string[]): Map<string, number> {
  const ranks = new Map<string, number>();
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i];
    // a merge without a separator can never match two non-empty symbols
    if (m.indexOf(' ', 1) > 0 && !ranks.has(m)) ranks.set(m, i);
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
