// Which tokens the grammar allows next: a walk of the vocabulary's byte trie alongside the matcher,
// so a shared prefix (" the", " then", " there") is matched once and a dead prefix prunes its whole
// subtree. The trie is built once per tokenizer, as flat arrays; the matcher memoizes each
// (state, byte) step, so a walk mostly replays known steps (a string's contents loop back to one
// state). Masks are cached per matcher state, because structured output keeps revisiting the same
// states (inside a string, between fields), and are kept sparse: the allowed ids when few are,
// else the banned ones, so applying one touches only those logits (no pass over the vocabulary).
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { EngineError } from '../../shared/errors.ts';
import { UNKNOWN, type GrammarMatcher, type MatchState } from './matcher.ts';

/**
 * The trie in preorder: node i's subtree is nodes i..i+size[i]-1, so the walk is one linear scan
 * that jumps over a subtree whose first byte the matcher rejects. Node 0 is the root (no byte).
 * The tokens ending at node i are tokIds[tokStart[i]..tokStart[i+1]].
 */
interface VocabTrie {
  byte: Uint8Array;
  depth: Uint16Array;
  size: Int32Array;
  tokStart: Int32Array;
  tokIds: Int32Array;
  /** longest token in bytes */
  maxDepth: number;
}

const tries = new WeakMap<Tokenizer, VocabTrie>();

/**
 * Tokens take part with the bytes they add to the visible output (as the stream decoder renders
 * them); control tokens render nothing, so they are never allowed (llama.cpp matches their text,
 * e.g. "<s>", which the answer then does not show).
 */
function vocabTrie(t: Tokenizer): VocabTrie {
  const hit = tries.get(t);
  if (hit) return hit;
  const children: Map<number, number>[] = [new Map()];
  const tokens: number[][] = [[]];
  const bytesOf: number[] = [0];
  for (let id = 0; id < t.vocabSize; id++) {
    if (t.eogIds.has(id)) continue;
    const bytes = t.tokenBytes(id);
    if (bytes.length === 0) continue;
    let node = 0;
    for (const b of bytes) {
      let next = children[node].get(b);
      if (next === undefined) {
        next = children.length;
        children.push(new Map());
        tokens.push([]);
        bytesOf.push(b);
        children[node].set(b, next);
      }
      node = next;
    }
    tokens[node].push(id);
  }
  const n = children.length;
  const byte = new Uint8Array(n), depth = new Uint16Array(n), size = new Int32Array(n), tokStart = new Int32Array(n + 1);
  const tokIds: number[] = [];
  let maxDepth = 0;
  // iterative preorder: each node's size is known once its subtree is numbered
  const stack: { node: number; d: number; at: number; kids: number[]; k: number }[] = [];
  let next = 0;
  const enter = (node: number, d: number) => {
    const at = next++;
    byte[at] = bytesOf[node]; depth[at] = d; tokStart[at] = tokIds.length;
    tokIds.push(...tokens[node]);
    maxDepth = Math.max(maxDepth, d);
    stack.push({ node, d, at, kids: [...children[node].values()], k: 0 });
  };
  enter(0, 0);
  while (stack.length) {
    const f = stack[stack.length - 1];
    if (f.k < f.kids.length) enter(f.kids[f.k++], f.d + 1);
    else { size[f.at] = next - f.at; stack.pop(); }
  }
  tokStart[n] = tokIds.length;
  const trie = { byte, depth, size, tokStart, tokIds: Int32Array.from(tokIds), maxDepth };
  tries.set(t, trie);
  return trie;
}

/** A state's mask, sparse: the allowed ids, or (when more than half the vocabulary is) the banned ones. */
export interface SparseMask {
  /** how many tokens are allowed */
  count: number;
  ids: Int32Array;
  /** true: ids are the allowed tokens; false: ids are the banned ones */
  allowedList: boolean;
}

const MASK_CACHE = 256;

/** Allowed-token masks for one matcher over one vocabulary, plus the token-level state step. */
export class TokenMask {
  private readonly trie: VocabTrie;
  private readonly cache = new Map<number, SparseMask>();
  private readonly eog: number[];
  /** the walk's scratch: the allowed ids found, a mark per token, and the state (and its memo row) at each depth */
  private readonly out: Int32Array;
  private readonly marks: Uint8Array;
  private readonly depthState: Int32Array;
  private readonly depthTrans: Int32Array[] = [];
  /** time spent computing masks (cache misses), for the bench */
  walkMs = 0;
  walks = 0;

  constructor(readonly matcher: GrammarMatcher, readonly tokenizer: Tokenizer) {
    this.trie = vocabTrie(tokenizer);
    this.eog = [...tokenizer.eogIds];
    this.marks = new Uint8Array(tokenizer.vocabSize);
    this.out = new Int32Array(tokenizer.vocabSize);
    this.depthState = new Int32Array(this.trie.maxDepth + 1);
  }

  /** The sparse mask for `s`: tokens that keep the input a prefix of the language, and EOG once it is complete. */
  sparse(s: MatchState): SparseMask {
    const hit = this.cache.get(s.id);
    if (hit) {
      this.cache.delete(s.id); // refresh its place in the LRU order
      this.cache.set(s.id, hit);
      return hit;
    }
    const t0 = performance.now();
    const mask = this.walk(s);
    this.walkMs += performance.now() - t0;
    this.walks++;
    this.cache.set(s.id, mask);
    if (this.cache.size > MASK_CACHE) this.cache.delete(this.cache.keys().next().value!);
    return mask;
  }

  /** The mask for `s` as one byte per token (1 = allowed). */
  allowed(s: MatchState): Uint8Array {
    const m = this.sparse(s);
    const out = new Uint8Array(this.tokenizer.vocabSize).fill(m.allowedList ? 0 : 1);
    for (const id of m.ids) out[id] = m.allowedList ? 1 : 0;
    return out;
  }

  /** Depth-first over the trie with an explicit stack; an edge the matcher rejects prunes its subtree. */
  private walk(s: MatchState): SparseMask {
    const { byte, depth, size, tokStart, tokIds } = this.trie;
    const m = this.matcher, out = this.out;
    const ds = this.depthState, dt = this.depthTrans;
    const V = out.length, N = byte.length;
    let count = 0;
    ds[0] = s.id; dt[0] = m.transitions(s.id);
    for (let i = 1; i < N;) {
      const d = depth[i];
      let next = dt[d - 1][byte[i]];
      if (next === UNKNOWN) next = m.learn(ds[d - 1], byte[i]);
      if (next < 0) { i += size[i]; continue; } // the matcher rejects this byte: skip the subtree
      for (let k = tokStart[i], end = tokStart[i + 1]; k < end; k++) out[count++] = tokIds[k];
      if (size[i] > 1) { ds[d] = next; dt[d] = m.transitions(next); }
      i++;
    }
    if (m.isComplete(s)) for (const id of this.eog) out[count++] = id; // EOG is never in the trie
    if (count <= V - count) return { count, ids: out.slice(0, count), allowedList: true };
    // most of the vocabulary is allowed: keep the banned ones
    const marks = this.marks;
    marks.fill(0);
    for (let k = 0; k < count; k++) marks[out[k]] = 1;
    const ids = new Int32Array(V - count);
    for (let i = 0, j = 0; i < V; i++) if (!marks[i]) ids[j++] = i;
    return { count, ids, allowedList: false };
  }

  /** Whether the mask of `s` holds token `id`, without computing the mask (a few memoized steps). */
  allows(s: MatchState, id: number): boolean {
    if (this.tokenizer.eogIds.has(id)) return this.matcher.isComplete(s);
    const bytes = this.tokenizer.tokenBytes(id);
    return bytes.length > 0 && this.matcher.acceptBytes(s, bytes) !== null;
  }

  /** The state after a token; EOG and other tokens the grammar does not allow here are an error. */
  accept(s: MatchState, id: number): MatchState {
    const next = this.matcher.acceptBytes(s, this.tokenizer.tokenBytes(id));
    if (!next || this.tokenizer.tokenBytes(id).length === 0) {
      throw new EngineError('GRAMMAR', `The grammar does not allow token ${id} (${JSON.stringify(this.tokenizer.tokenText(id))}) here.`);
    }
    return next;
  }
}

/**
 * Per-request grammar constraint: the current state, its mask, and the step after each token.
 * `apply` writes -Infinity into the logits of every disallowed token (in place).
 */
export class GrammarConstraint {
  private state: MatchState;
  private keep = new Float32Array(0);

  constructor(private readonly mask: TokenMask) {
    this.state = mask.matcher.initial;
  }

  /** Only the end of generation is left: the next step can only be EOG. */
  get done(): boolean {
    return this.mask.matcher.isDone(this.state);
  }

  allowed(): Uint8Array {
    return this.mask.allowed(this.state);
  }

  apply(logits: Float32Array): void {
    const m = this.mask.sparse(this.state);
    if (m.count === 0) {
      throw new EngineError('GRAMMAR',
        'The grammar allows no token of this model\'s vocabulary here (it needs text the vocabulary cannot spell).');
    }
    const ids = m.ids;
    if (!m.allowedList) {
      for (let i = 0; i < ids.length; i++) logits[ids[i]] = -Infinity;
      return;
    }
    // few allowed: keep their logits, clear the rest in one native fill
    if (this.keep.length < ids.length) this.keep = new Float32Array(ids.length);
    const keep = this.keep;
    for (let i = 0; i < ids.length; i++) keep[i] = logits[ids[i]];
    logits.fill(-Infinity);
    for (let i = 0; i < ids.length; i++) logits[ids[i]] = keep[i];
  }

  /** Whether the grammar allows `id` next (as the mask would say). */
  allows(id: number): boolean {
    return this.mask.allows(this.state, id);
  }

  accept(id: number): void {
    this.state = this.mask.accept(this.state, id);
  }

  /** mask computations (cache misses) and their time so far, over this constraint's matcher and vocabulary */
  get walks(): { count: number; ms: number } {
    return { count: this.mask.walks, ms: this.mask.walkMs };
  }
}

/**
 * One pick under the grammar from the full logits; `pick` chooses from logits (the sampler, or a
 * plain argmax). When `greedy` (pick is an argmax, after penalties at most), the unmasked pick comes
 * first, as llama.cpp's sampler does: when the grammar allows it, it is the masked argmax too
 * (masking only removes other candidates; penalties act per logit), so the mask is computed only
 * when the model's own choice is not allowed. Otherwise the mask goes on in place, then `pick`.
 */
export function pickUnderGrammar(logits: Float32Array, c: GrammarConstraint, pick: (logits: Float32Array) => number, greedy: boolean): number {
  if (greedy) {
    const id = pick(logits);
    if (c.allows(id)) return id;
  }
  c.apply(logits);
  return pick(logits);
}
