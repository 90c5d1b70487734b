// Per-token log-probabilities (OpenAI's logprobs / top_logprobs).
// What they are of: the log-softmax of the model's raw logits over the whole vocabulary, before
// logit_bias, penalties, a grammar mask, top-k/p, min-p or temperature touch them. That is
// llama-server's default (n_probs without post_sampling_probs: get_token_probabilities in
// tools/server/server-common.cpp), so a client sees the model's own distribution whatever the
// sampler did, and a banned (logit_bias -100) token still shows at its real rank.
// Needs the full logits: Session asks the backend for them on steps that report logprobs.
import { EngineError } from '../shared/errors.ts';

/** The most alternatives a token reports (OpenAI's top_logprobs limit). */
export const MAX_TOP_LOGPROBS = 20;

export interface TokenLogprob {
  /** the chosen token */
  id: number;
  logprob: number;
  /** the `n` most likely tokens, most likely first (ties: lower id first) */
  top: { id: number; logprob: number }[];
}

/** Reads logprobs off full logits; one per generation (its small top-n buffers are allocated once). */
export class LogprobReader {
  private readonly ids: Int32Array;
  private readonly vals: Float64Array;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 0 || n > MAX_TOP_LOGPROBS) {
      throw new EngineError('BAD_ARGUMENT', `logprobs: the number of top tokens must be a whole number in 0..${MAX_TOP_LOGPROBS} (got ${n}).`);
    }
    this.ids = new Int32Array(n);
    this.vals = new Float64Array(n);
  }

  read(logits: Float32Array, chosen: number): TokenLogprob {
    const lse = logSumExp(logits);
    const n = Math.min(this.n, logits.length);
    const ids = this.ids, vals = this.vals;
    // insertion into a sorted top-n: n ≤ 20, and after the first few tokens almost every logit
    // fails the first comparison, so this is one pass over the vocabulary
    let size = 0;
    for (let i = 0; i < logits.length && n > 0; i++) {
      const v = logits[i];
      if (size === n && !(v > vals[n - 1])) continue;
      let j = size < n ? size++ : n - 1;
      while (j > 0 && v > vals[j - 1]) { ids[j] = ids[j - 1]; vals[j] = vals[j - 1]; j--; }
      ids[j] = i;
      vals[j] = v;
    }
    const top = [];
    for (let i = 0; i < size; i++) top.push({ id: ids[i], logprob: vals[i] - lse });
    return { id: chosen, logprob: logits[chosen] - lse, top };
  }
}

/** ln Σ exp(x), in f64 around the max so no term overflows. */
export function logSumExp(x: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  if (max === -Infinity || !Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return max + Math.log(sum);
}
