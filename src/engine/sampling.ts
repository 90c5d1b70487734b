// Token sampler with llama.cpp's default chain order:
//   logit bias → penalties → top-k → top-p → min-p → temperature → draw.
// Top-p and min-p work on the softmax at temperature 1 of what survived the previous step (as in
// llama.cpp); temperature only reshapes the final draw. temperature ≤ 0 → greedy argmax.
// Built for 128k vocabularies: penalties touch only the recent tokens, top-k is a heap selection,
// and every buffer is allocated once in the constructor.

import { check } from '../shared/assert.ts';
import { Rng } from './rng.ts';

export interface SamplingParams {
  /** ≤ 0 → greedy (argmax after penalties). */
  temperature: number;
  /** Keep the k most likely tokens; 0 disables. */
  topK: number;
  /** Keep the smallest set whose probability mass reaches p; 1 disables. */
  topP: number;
  /** Drop tokens less likely than minP × the most likely one; 0 disables. */
  minP: number;
  /** llama.cpp repetition penalty: positive logits divided, negative multiplied; 1 disables. */
  repeatPenalty: number;
  /** How many of the last accepted tokens the penalties look at; 0 disables all penalties. */
  repeatLastN: number;
  /** OpenAI: logit -= count × frequencyPenalty. */
  frequencyPenalty: number;
  /** OpenAI: logit -= presencePenalty if the token occurred at all. */
  presencePenalty: number;
  /** Same seed → same draws; omitted → random. */
  seed?: number;
  /** OpenAI's logit_bias: token id → value added to its logit before everything else (-Infinity bans). */
  logitBias?: ReadonlyMap<number, number>;
}

export const DEFAULT_SAMPLING: Readonly<SamplingParams> = Object.freeze({
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.0,
  repeatLastN: 64,
  frequencyPenalty: 0,
  presencePenalty: 0,
});

/**
 * Fills in defaults and checks every field; throws EngineError('BAD_ARGUMENT') on bad values.
 * Precedence, as llama.cpp: the caller's value, else the model's own (engine/model-sampling.ts), else DEFAULT_SAMPLING.
 */
export function resolveSamplingParams(params: Partial<SamplingParams> = {}, modelDefaults: Partial<SamplingParams> = {}): SamplingParams {
  const p: SamplingParams = { ...DEFAULT_SAMPLING, ...stripUndefined(modelDefaults), ...stripUndefined(params) };
  const bad = (name: string, rule: string, v: unknown): string => `sampling: ${name} must be ${rule}, got ${v}`;
  check(Number.isFinite(p.temperature), 'BAD_ARGUMENT', () => bad('temperature', 'a finite number', p.temperature));
  check(Number.isSafeInteger(p.topK) && p.topK >= 0, 'BAD_ARGUMENT', () => bad('topK', 'an integer ≥ 0 (0 = off)', p.topK));
  check(p.topP >= 0 && p.topP <= 1, 'BAD_ARGUMENT', () => bad('topP', 'in [0, 1] (1 = off)', p.topP));
  check(p.minP >= 0 && p.minP <= 1, 'BAD_ARGUMENT', () => bad('minP', 'in [0, 1] (0 = off)', p.minP));
  check(p.repeatPenalty > 0 && Number.isFinite(p.repeatPenalty), 'BAD_ARGUMENT',
    () => bad('repeatPenalty', 'a finite number > 0 (1 = off)', p.repeatPenalty));
  check(Number.isSafeInteger(p.repeatLastN) && p.repeatLastN >= 0, 'BAD_ARGUMENT',
    () => bad('repeatLastN', 'an integer ≥ 0', p.repeatLastN));
  check(p.frequencyPenalty >= -2 && p.frequencyPenalty <= 2, 'BAD_ARGUMENT',
    () => bad('frequencyPenalty', 'in [-2, 2]', p.frequencyPenalty));
  check(p.presencePenalty >= -2 && p.presencePenalty <= 2, 'BAD_ARGUMENT',
    () => bad('presencePenalty', 'in [-2, 2]', p.presencePenalty));
  return p;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class Sampler {
  readonly params: Readonly<SamplingParams>;
  readonly vocabSize: number;
  private readonly rng: Rng;
  /** Ring buffer of the last `repeatLastN` accepted tokens and their counts. */
  private readonly history: Int32Array;
  private historyLen = 0;
  private historyPos = 0;
  private readonly counts = new Map<number, number>();
  /** Penalized copy of the logits; never write into the caller's array. */
  private readonly work: Float32Array;
  /** Candidate ids and logits (first `n` entries live). Sized vocab when top-k is off. */
  private readonly candIds: Int32Array;
  private readonly candLogits: Float64Array;
  /** logitBias as two arrays (empty when none), so a step adds it without touching a Map */
  private readonly biasIds: Int32Array;
  private readonly biasValues: Float32Array;

  constructor(params: Partial<SamplingParams>, vocabSize: number, modelDefaults?: Partial<SamplingParams>) {
    check(Number.isSafeInteger(vocabSize) && vocabSize > 0, 'BAD_ARGUMENT',
      `sampling: vocabSize must be a positive integer, got ${vocabSize}`);
    this.params = Object.freeze(resolveSamplingParams(params, modelDefaults));
    this.vocabSize = vocabSize;
    this.rng = new Rng(this.params.seed);
    this.history = new Int32Array(this.params.repeatLastN);
    this.work = new Float32Array(vocabSize);
    const cap = this.params.topK > 0 ? Math.min(this.params.topK, vocabSize) : vocabSize;
    this.candIds = new Int32Array(cap);
    this.candLogits = new Float64Array(cap);
    const bias = [...(this.params.logitBias ?? [])];
    for (const [id, v] of bias) {
      check(Number.isInteger(id) && id >= 0 && id < vocabSize, 'BAD_ARGUMENT',
        () => `sampling: logitBias token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
      check(Number.isFinite(v) || v === -Infinity, 'BAD_ARGUMENT', () => `sampling: logitBias of token ${id} must be a finite number or -Infinity, got ${v}`);
    }
    this.biasIds = Int32Array.from(bias, ([id]) => id);
    this.biasValues = Float32Array.from(bias, ([, v]) => v);
  }

  /** Records a token that became part of the context (prompt tokens too, if they should count). */
  accept(id: number): void {
    check(Number.isInteger(id) && id >= 0 && id < this.vocabSize, 'BAD_ARGUMENT',
      () => `sampling: token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    const cap = this.history.length;
    if (cap === 0) return;
    if (this.historyLen === cap) {
      const old = this.history[this.historyPos];
      const c = this.counts.get(old)! - 1;
      if (c === 0) this.counts.delete(old);
      else this.counts.set(old, c);
    } else {
      this.historyLen++;
    }
    this.history[this.historyPos] = id;
    this.historyPos = (this.historyPos + 1) % cap;
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  /** Forgets the history and restarts the random sequence from the seed. */
  reset(): void {
    this.historyLen = 0;
    this.historyPos = 0;
    this.counts.clear();
    this.rng.reseed(this.rng.seed);
  }

  /** The seed in use (the random one when none was given), so a run can be reproduced. */
  get seed(): number {
    return this.rng.seed;
  }

  /** Picks the next token id from raw logits (length vocabSize). Does not modify `logits`. */
  sample(logits: Float32Array): number {
    check(logits.length === this.vocabSize, 'BAD_ARGUMENT',
      () => `sampling: expected ${this.vocabSize} logits, got ${logits.length}`);
    const x = this.penalized(logits);
    if (this.params.temperature <= 0) return argmax(x);
    const n = this.filter(x);
    return this.draw(n, this.weigh(n));
  }

  /**
   * How many top candidates, computed on the device, let `sampleTop` choose exactly what `sample`
   * would choose from the full logits: 1 when greedy, topK when top-k is on; 0 when the full logits
   * are needed (a logit bias or a penalty applies, or top-k is off).
   */
  candidatesNeeded(): number {
    const p = this.params;
    // a bias can lift any token into the top, or push the device's best out of it
    if (this.biasIds.length > 0) return 0;
    const penalties = (p.repeatPenalty !== 1 || p.frequencyPenalty !== 0 || p.presencePenalty !== 0) && this.counts.size > 0;
    if (penalties) return 0;
    if (p.temperature <= 0) return 1;
    return p.topK > 0 ? Math.min(p.topK, this.vocabSize) : 0;
  }

  /** `sample` given only the candidatesNeeded() best logits: largest first, ties lower id first. */
  sampleTop(ids: ArrayLike<number>, logits: ArrayLike<number>): number {
    const n = ids.length;
    check(n > 0 && n === logits.length && n <= this.candIds.length, 'BAD_ARGUMENT',
      () => `sampling: expected 1..${this.candIds.length} candidates, got ${n}`);
    if (this.params.temperature <= 0) return ids[0];
    for (let i = 0; i < n; i++) {
      this.candIds[i] = ids[i];
      this.candLogits[i] = logits[i];
    }
    let m = n;
    if (this.params.topP < 1) m = this.applyTopP(m, this.params.topP);
    if (this.params.minP > 0) m = this.applyMinP(m, this.params.minP);
    return this.draw(m, this.weigh(m));
  }

  /**
   * The tokens `sample` would choose from and their probabilities (after penalties, filters and
   * temperature), most likely first. For inspection (logprobs, UI); allocates its result.
   */
  candidates(logits: Float32Array): { ids: Int32Array; probs: Float64Array } {
    check(logits.length === this.vocabSize, 'BAD_ARGUMENT',
      () => `sampling: expected ${this.vocabSize} logits, got ${logits.length}`);
    const x = this.penalized(logits);
    if (this.params.temperature <= 0) return { ids: Int32Array.of(argmax(x)), probs: Float64Array.of(1) };
    const n = this.filter(x);
    const total = this.weigh(n);
    const order = Array.from(this.candIds.subarray(0, n).keys())
      .sort((a, b) => this.candLogits[b] - this.candLogits[a] || this.candIds[a] - this.candIds[b]);
    return {
      ids: Int32Array.from(order, (i) => this.candIds[i]),
      probs: Float64Array.from(order, (i) => this.candLogits[i] / total),
    };
  }

  /** top-k → top-p → min-p; leaves the survivors in the candidate arrays and returns their count. */
  private filter(x: Float32Array): number {
    const p = this.params;
    let n = p.topK > 0 ? this.selectTopK(x, Math.min(p.topK, this.vocabSize)) : this.takeAll(x, p.topP < 1);
    if (p.topP < 1) n = this.applyTopP(n, p.topP);
    if (p.minP > 0) n = this.applyMinP(n, p.minP);
    return n;
  }

  /**
   * Logits after the logit bias and repetition/frequency/presence penalties: `logits` itself when
   * nothing applies, else the shared work buffer (valid until the next call). Treat the result as read-only.
   */
  penalized(logits: Float32Array): Float32Array {
    const { repeatPenalty: rp, frequencyPenalty: fp, presencePenalty: pp } = this.params;
    const penalties = !((rp === 1 && fp === 0 && pp === 0) || this.counts.size === 0);
    const nBias = this.biasIds.length;
    if (!penalties && nBias === 0) return logits;
    const x = this.work;
    x.set(logits);
    for (let i = 0; i < nBias; i++) x[this.biasIds[i]] += this.biasValues[i];
    if (!penalties) return x;
    for (const [id, count] of this.counts) {
      let v = x[id];
      if (rp !== 1) v = v > 0 ? v / rp : v * rp;
      x[id] = v - count * fp - pp;
    }
    return x;
  }

  /** Heap selection of the k largest logits, then sorted descending (ties → lower id first). */
  private selectTopK(x: Float32Array, k: number): number {
    const ids = this.candIds;
    const vals = this.candLogits;
    let size = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (size < k) {
        heapPush(ids, vals, size++, i, v);
      } else if (v > vals[0]) {
        // Later ids with an equal logit lose, so ties keep the lowest ids.
        ids[0] = i;
        vals[0] = v;
        siftDown(ids, vals, 0, size);
      }
    }
    sortCandidates(ids, vals, x, size);
    return size;
  }

  private takeAll(x: Float32Array, sorted: boolean): number {
    const n = x.length;
    for (let i = 0; i < n; i++) {
      this.candIds[i] = i;
      this.candLogits[i] = x[i];
    }
    if (sorted) sortCandidates(this.candIds, this.candLogits, x, n);
    return n;
  }

  /** Keeps the shortest sorted prefix whose softmax mass (temperature 1) reaches `topP`; at least one. */
  private applyTopP(n: number, topP: number): number {
    const vals = this.candLogits;
    const max = vals[0];
    let total = 0;
    for (let i = 0; i < n; i++) total += Math.exp(vals[i] - max);
    let cum = 0;
    for (let i = 0; i < n; i++) {
      cum += Math.exp(vals[i] - max) / total;
      if (cum >= topP) return i + 1;
    }
    return n;
  }

  /** Keeps tokens with p ≥ minP × p_max, i.e. logit ≥ max + ln(minP); order preserved. */
  private applyMinP(n: number, minP: number): number {
    const ids = this.candIds;
    const vals = this.candLogits;
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (vals[i] > max) max = vals[i];
    const threshold = max + Math.log(minP);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (vals[i] >= threshold) {
        ids[kept] = ids[i];
        vals[kept++] = vals[i];
      }
    }
    return Math.max(kept, 1);
  }

  /**
   * Replaces the n candidate logits by unnormalized weights exp((logit - max) / temperature) and
   * returns their sum. An all -Infinity set gets weight 1 on its first entry.
   */
  private weigh(n: number): number {
    const vals = this.candLogits;
    const t = this.params.temperature;
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (vals[i] > max) max = vals[i];
    if (max === -Infinity) {
      vals.fill(0, 0, n);
      vals[0] = 1;
      return 1;
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = Math.exp((vals[i] - max) / t);
      vals[i] = w;
      total += w;
    }
    return total;
  }

  /** One inverse-CDF draw over the n weighted candidates. */
  private draw(n: number, total: number): number {
    const ids = this.candIds;
    const w = this.candLogits;
    let r = this.rng.nextFloat() * total;
    for (let i = 0; i < n; i++) {
      r -= w[i];
      if (r < 0) return ids[i];
    }
    // Rounding left r ≥ 0 after the last step: take the last candidate with any weight.
    for (let i = n - 1; i > 0; i--) if (w[i] > 0) return ids[i];
    return ids[0];
  }
}

/** Index of the largest value; ties → lowest index. NaN never wins. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > bestV) {
      bestV = x[i];
      best = i;
    }
  }
  return best;
}

// Min-heap on (value asc, id desc): the root is the weakest candidate, evicted first.
function worse(va: number, ia: number, vb: number, ib: number): boolean {
  return va < vb || (va === vb && ia > ib);
}

function heapPush(ids: Int32Array, vals: Float64Array, size: number, id: number, v: number): void {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(v, id, vals[parent], ids[parent])) break;
    ids[i] = ids[parent];
    vals[i] = vals[parent];
    i = parent;
  }
  ids[i] = id;
  vals[i] = v;
}

function siftDown(ids: Int32Array, vals: Float64Array, start: number, size: number): void {
  const id = ids[start];
  const v = vals[start];
  let i = start;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && worse(vals[child + 1], ids[child + 1], vals[child], ids[child])) child++;
    if (!worse(vals[child], ids[child], v, id)) break;
    ids[i] = ids[child];
    vals[i] = vals[child];
    i = child;
  }
  ids[i] = id;
  vals[i] = v;
}

/**
 * Sorts the first n candidates by logit descending, ties by id ascending. `x` holds every token's
 * logit (vals[i] === x[ids[i]]), so large sets sort the id array alone and re-read the values.
 */
function sortCandidates(ids: Int32Array, vals: Float64Array, x: Float32Array, n: number): void {
  if (n <= 64) {
    insertionSort(ids, vals, n);
    return;
  }
  ids.subarray(0, n).sort((a, b) => x[b] - x[a] || a - b);
  for (let i = 0; i < n; i++) vals[i] = x[ids[i]];
}

function insertionSort(ids: Int32Array, vals: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const id = ids[i];
    const v = vals[i];
    let j = i - 1;
    while (j >= 0 && worse(vals[j], ids[j], v, id)) {
      ids[j + 1] = ids[j];
      vals[j + 1] = vals[j];
      j--;
    }
    ids[j + 1] = id;
    vals[j + 1] = v;
  }
}
