// Which tokens the grammar allows next: a walk of the vocabulary's byte trie alongside the matcher,
// so a shared prefix (" the", " then", " there") is matched once and a dead prefix prunes its whole
// subtree. The trie is built once per tokenizer; masks are cached per matcher state, because
// structured output keeps revisiting the same states (inside a string, between fields).
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { EngineError } from '../../shared/errors.ts';
import type { GrammarMatcher, MatchState } from './matcher.ts';

interface VocabTrie {
  /** children[node] maps a byte to the child node */
  children: Map<number, number>[];
  /** tokens whose bytes end at node */
  tokens: number[][];
}

const tries = new WeakMap<Tokenizer, VocabTrie>();

/**
 * Tokens take part with the bytes they add to the visible output (as the stream decoder renders
 * them); control tokens render nothing, so they are never allowed (llama.cpp matches their text,
 * e.g. "<s>", which the answer then does not show).
 */
function vocabTrie(t: Tokenizer): VocabTrie {
  let trie = tries.get(t);
  if (trie) return trie;
  trie = { children: [new Map()], tokens: [[]] };
  for (let id = 0; id < t.vocabSize; id++) {
    if (t.eogIds.has(id)) continue;
    const bytes = t.tokenBytes(id);
    if (bytes.length === 0) continue;
    let node = 0;
    for (const b of bytes) {
      let next = trie.children[node].get(b);
      if (next === undefined) {
        next = trie.children.length;
        trie.children.push(new Map());
        trie.tokens.push([]);
        trie.children[node].set(b, next);
      }
      node = next;
    }
    trie.tokens[node].push(id);
  }
  tries.set(t, trie);
  return trie;
}

const MASK_CACHE = 256;

/** Allowed-token masks (1 = allowed) for one matcher over one vocabulary, plus the token-level state step. */
export class TokenMask {
  private readonly trie: VocabTrie;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly eog: number[];

  constructor(readonly matcher: GrammarMatcher, readonly tokenizer: Tokenizer) {
    this.trie = vocabTrie(tokenizer);
    this.eog = [...tokenizer.eogIds];
  }

  /** The mask for `s`: tokens that keep the input a prefix of the language, and EOG once it is complete. */
  allowed(s: MatchState): Uint8Array {
    const hit = this.cache.get(s.key);
    if (hit) {
      this.cache.delete(s.key); // refresh its place in the LRU order
      this.cache.set(s.key, hit);
      return hit;
    }
    const mask = new Uint8Array(this.tokenizer.vocabSize);
    const { children, tokens } = this.trie;
    const m = this.matcher;
    const walk = (node: number, st: MatchState): void => {
      for (const id of tokens[node]) mask[id] = 1;
      for (const [b, child] of children[node]) {
        const next = m.acceptByte(st, b);
        if (next) walk(child, next);
      }
    };
    walk(0, s);
    if (m.isComplete(s)) for (const id of this.eog) mask[id] = 1;
    this.cache.set(s.key, mask);
    if (this.cache.size > MASK_CACHE) this.cache.delete(this.cache.keys().next().value!);
    return mask;
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
    const allowed = this.allowed();
    let any = false;
    for (let i = 0; i < allowed.length; i++) {
      if (allowed[i]) any = true;
      else logits[i] = -Infinity;
    }
    if (!any) {
      throw new EngineError('GRAMMAR',
        'The grammar allows no token of this model\'s vocabulary here (it needs text the vocabulary cannot spell).');
    }
  }

  accept(id: number): void {
    this.state = this.mask.accept(this.state, id);
  }
}
