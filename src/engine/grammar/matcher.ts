// Pushdown matcher over a parsed grammar, the way llama.cpp's grammar sampler works: the state is a
// set of stacks of "where we are in which alternative"; a code point advances every stack whose
// top accepts it. Stacks are hash-consed linked frames (frame 0 = the empty stack, i.e. the grammar
// is complete), so a state is a sorted list of frame ids and equal states compare as equal keys.
// Input arrives as bytes (token pieces split UTF-8 sequences); a partial sequence is kept in the
// state and pruned early when no stack could accept any code point it may still become.
import type { CharElem, Grammar } from './gbnf-parse.ts';

export interface MatchState {
  /** terminal frames (top is a code-point set), and 0 when the grammar may end here; sorted, unique */
  readonly frames: readonly number[];
  /** code-point bits of an unfinished UTF-8 sequence, and how many continuation bytes it still needs */
  readonly partial: number;
  readonly need: number;
  /** the lead byte when it limits the next byte's range (E0, ED, F0, F4), else 0 */
  readonly second: number;
  /** stable identity for caches */
  readonly key: string;
  /** dense id (the matcher's index of interned states), for the transition memo */
  readonly id: number;
  /** dense id of the frame list alone (states differing only in a partial sequence share it) */
  readonly fid: number;
}

/** Transition memo entries: not computed yet, and no transition (the byte is rejected). */
export const UNKNOWN = -2, DEAD = -1;

export class GrammarMatcher {
  /** flat element table: each alternative is a run of element ids ending in END */
  private readonly elems: (CharElem | { kind: 'ref'; rule: number } | null)[] = [];
  private readonly altStarts: number[][] = [];
  private readonly framePos: number[] = [0];
  private readonly frameNext: number[] = [0];
  private readonly frameIds = new Map<string, number>();
  private readonly expanded = new Map<number, readonly number[]>();
  private readonly states = new Map<string, MatchState>();
  private readonly byId: MatchState[] = [];
  /**
   * acceptByte memo per state id: the next state's id (or DEAD) for each byte; states are interned,
   * so a mask walk over the vocabulary trie mostly replays known steps (a string's contents loop
   * back to one state).
   */
  private readonly trans: Int32Array[] = [];
  private readonly frameSetIds = new Map<string, number>();
  /**
   * acceptCodePoint memo per frame list: which of its frames accept the code point (a bit each)
   * decides the next state, so the 20k CJK characters inside a JSON string all share one entry.
   */
  private readonly cpMemo: Map<number, number>[] = [];
  readonly initial: MatchState;

  constructor(readonly grammar: Grammar) {
    for (const alts of grammar.rules) {
      const starts: number[] = [];
      for (const alt of alts) {
        starts.push(this.elems.length);
        this.elems.push(...alt, null);
      }
      this.altStarts.push(starts);
    }
    const roots = new Set<number>();
    for (const start of this.altStarts[grammar.root]) {
      for (const f of this.expand(this.elems[start] === null ? 0 : this.frame(start, 0))) roots.add(f);
    }
    this.initial = this.state([...roots], 0, 0);
  }

  private frame(pos: number, next: number): number {
    const k = `${pos},${next}`;
    let id = this.frameIds.get(k);
    if (id === undefined) {
      id = this.framePos.length;
      this.framePos.push(pos);
      this.frameNext.push(next);
      this.frameIds.set(k, id);
    }
    return id;
  }

  /** The frame after the element at the top of `f` matched: the next element, or the caller's frame. */
  private after(f: number): number {
    const pos = this.framePos[f] + 1;
    return this.elems[pos] === null ? this.frameNext[f] : this.frame(pos, this.frameNext[f]);
  }

  /** Rule references at the top expanded until every stack's top is a code-point set (or empty). */
  private expand(f: number): readonly number[] {
    const hit = this.expanded.get(f);
    if (hit) return hit;
    const out = new Set<number>();
    const e = f === 0 ? null : this.elems[this.framePos[f]];
    if (e === null || e === undefined) {
      out.add(0);
    } else if (e.kind === 'char') {
      out.add(f);
    } else {
      const rest = this.after(f);
      for (const start of this.altStarts[e.rule]) {
        const g = this.elems[start] === null ? rest : this.frame(start, rest);
        for (const x of this.expand(g)) out.add(x);
      }
    }
    const r = [...out].sort((a, b) => a - b);
    this.expanded.set(f, r);
    return r;
  }

  private state(frames: number[], partial: number, need: number, second = 0): MatchState {
    frames.sort((a, b) => a - b);
    const fk = frames.join(',');
    const key = `${fk}|${partial},${need},${second}`;
    let s = this.states.get(key);
    if (!s) {
      let fid = this.frameSetIds.get(fk);
      if (fid === undefined) this.frameSetIds.set(fk, (fid = this.frameSetIds.size));
      s = { frames, partial, need, second, key, id: this.byId.length, fid };
      this.states.set(key, s);
      this.byId.push(s);
    }
    return s;
  }

  /** The grammar may end here (an empty stack, no unfinished UTF-8 sequence). */
  isComplete(s: MatchState): boolean {
    return s.need === 0 && s.frames[0] === 0;
  }

  /** Nothing more can be accepted (only the end is left). */
  isDone(s: MatchState): boolean {
    return s.frames.length === 1 && s.frames[0] === 0 && s.need === 0;
  }

  private top(f: number): CharElem {
    return this.elems[this.framePos[f]] as CharElem;
  }

  /** The state after one code point, or null when no stack accepts it. */
  acceptCodePoint(s: MatchState, cp: number): MatchState | null {
    const fr = s.frames;
    if (fr.length > 31) return this.advance(fr, cp);
    let bits = 0;
    for (let i = 0; i < fr.length; i++) if (fr[i] !== 0 && matches(this.top(fr[i]), cp)) bits |= 1 << i;
    let memo = this.cpMemo[s.fid];
    if (!memo) this.cpMemo[s.fid] = memo = new Map();
    const hit = memo.get(bits);
    if (hit !== undefined) return hit < 0 ? null : this.byId[hit];
    const r = this.advance(fr, cp);
    memo.set(bits, r ? r.id : DEAD);
    return r;
  }

  private advance(frames: readonly number[], cp: number): MatchState | null {
    const out = new Set<number>();
    for (const f of frames) {
      if (f === 0 || !matches(this.top(f), cp)) continue;
      for (const g of this.expand(this.after(f))) out.add(g);
    }
    return out.size ? this.state([...out], 0, 0) : null;
  }

  /**
   * The state after one byte of UTF-8, or null when the input can no longer match. Only
   * well-formed UTF-8 passes (Unicode table 3-7: no overlong forms, surrogates or stray bytes):
   * llama.cpp's decoder takes F0 80 81 BB as "{", and tiny vocabularies then spell JSON that way.
   */
  acceptByte(s: MatchState, b: number): MatchState | null {
    const next = this.step(s.id, b);
    return next < 0 ? null : this.byId[next];
  }

  /** acceptByte on state ids, memoized: the mask walk's inner step. */
  step(id: number, b: number): number {
    const n = this.transitions(id)[b];
    return n === UNKNOWN ? this.learn(id, b) : n;
  }

  /**
   * The memo row of a state: per byte the next state's id, DEAD, or UNKNOWN (then call learn).
   * A partial UTF-8 state's row is DEAD outside the continuation bytes from the start.
   */
  transitions(id: number): Int32Array {
    let t = this.trans[id];
    if (!t) {
      this.trans[id] = t = new Int32Array(256).fill(UNKNOWN);
      if (this.byId[id].need > 0) { t.fill(DEAD, 0, 0x80); t.fill(DEAD, 0xc0); }
    }
    return t;
  }

  /** Computes and records one step the memo does not have yet. */
  learn(id: number, b: number): number {
    const r = this.computeByte(this.byId[id], b);
    return (this.transitions(id)[b] = r ? r.id : DEAD);
  }

  private computeByte(s: MatchState, b: number): MatchState | null {
    if (s.need > 0) {
      const [lo, hi] = s.second ? SECOND[s.second] : [0x80, 0xbf];
      if (b < lo || b > hi) return null;
      const partial = (s.partial << 6) | (b & 0x3f);
      if (s.need === 1) return this.acceptCodePoint(s, partial);
      return this.partialState(s.frames, partial, s.need - 1, 0);
    }
    if (b < 0x80) return this.acceptCodePoint(s, b);
    if (b >= 0xc2 && b < 0xe0) return this.partialState(s.frames, b & 0x1f, 1, 0);
    if (b >= 0xe0 && b < 0xf0) return this.partialState(s.frames, b & 0x0f, 2, b);
    if (b >= 0xf0 && b < 0xf5) return this.partialState(s.frames, b & 0x07, 3, b);
    return null; // a stray continuation byte or an invalid lead byte
  }

  /** Keeps an unfinished sequence only if some stack accepts a code point it can still complete to. */
  private partialState(frames: readonly number[], partial: number, need: number, lead: number): MatchState | null {
    const [b2lo, b2hi] = lead ? SECOND[lead] ?? [0x80, 0xbf] : [0x80, 0xbf];
    const rest = 6 * (need - (lead ? 1 : 0));
    // the code points this sequence can still complete to (with the second byte's limits once known)
    const lo = lead ? (((partial << 6) | (b2lo & 0x3f)) << rest) : partial << (6 * need);
    const hi = lead ? ((((partial << 6) | (b2hi & 0x3f)) << rest) | ((1 << rest) - 1)) : (partial << (6 * need)) | ((1 << (6 * need)) - 1);
    const live = frames.filter((f) => f !== 0 && intersects(this.top(f), lo, hi));
    return live.length ? this.state(live, partial, need, SECOND[lead] ? lead : 0) : null;
  }

  acceptBytes(s: MatchState | null, bytes: Uint8Array): MatchState | null {
    for (let i = 0; i < bytes.length && s; i++) s = this.acceptByte(s, bytes[i]);
    return s;
  }

  /** Whether the whole string is in the grammar's language. */
  matchesString(text: string): boolean {
    const s = this.acceptBytes(this.initial, new TextEncoder().encode(text));
    return s !== null && this.isComplete(s);
  }

  /** Whether the string can be continued into something in the language. */
  acceptsPrefix(text: string): boolean {
    return this.acceptBytes(this.initial, new TextEncoder().encode(text)) !== null;
  }
}

/** Lead bytes whose second byte has a narrower range than 80..BF (no overlong forms, no surrogates, ≤ U+10FFFF). */
const SECOND: Record<number, [number, number]> = { 0xe0: [0xa0, 0xbf], 0xed: [0x80, 0x9f], 0xf0: [0x90, 0xbf], 0xf4: [0x80, 0x8f] };

function matches(e: CharElem, cp: number): boolean {
  const r = e.ranges;
  let inside = false;
  for (let i = 0; i < r.length; i += 2) if (cp >= r[i] && cp <= r[i + 1]) { inside = true; break; }
  return inside !== e.negate;
}

const mergedRanges = new WeakMap<CharElem, number[]>();

/** The set's ranges sorted and merged (adjacent ones too), computed once per element. */
function merged(e: CharElem): number[] {
  let m = mergedRanges.get(e);
  if (m) return m;
  const pairs: [number, number][] = [];
  for (let i = 0; i < e.ranges.length; i += 2) pairs.push([e.ranges[i], e.ranges[i + 1]]);
  pairs.sort((x, y) => x[0] - y[0]);
  m = [];
  for (const [a, b] of pairs) {
    if (m.length && a <= m[m.length - 1] + 1) m[m.length - 1] = Math.max(m[m.length - 1], b);
    else m.push(a, b);
  }
  mergedRanges.set(e, m);
  return m;
}

/** Whether the set holds some code point in [lo, hi]. */
function intersects(e: CharElem, lo: number, hi: number): boolean {
  const r = e.ranges;
  if (!e.negate) {
    for (let i = 0; i < r.length; i += 2) if (r[i] <= hi && r[i + 1] >= lo) return true;
    return false;
  }
  // negated: some point of [lo, hi] is outside every range, i.e. no merged range covers all of it
  const m = merged(e);
  for (let i = 0; i < m.length; i += 2) if (m[i] <= lo && m[i + 1] >= hi) return false;
  return true;
}
