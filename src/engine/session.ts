// One conversation with a loaded model: keeps the KV cache in step with the token history,
// reuses the common prefix of a new prompt, and streams generated text with timing stats.
import { ForwardAborted } from '../models/decoder.ts';
import { EngineError } from '../shared/errors.ts';
import { createStreamDecoder } from '../tokenizer/tokenizer.ts';
import { compileConstraint, type ResponseFormat } from './grammar/compile.ts';
import { pickUnderGrammar, type GrammarConstraint } from './grammar/token-mask.ts';
import type { LoadedModel } from './load.ts';
import { LogprobReader, type TokenLogprob } from './logprobs.ts';
import { Sampler, type SamplingParams } from './sampling.ts';
import { StopStringMatcher } from './stop-strings.ts';

export interface GenerateOptions {
  sampling?: Partial<SamplingParams>;
  maxTokens?: number;
  stop?: readonly string[];
  /** ids that end the answer besides the vocab's end-of-generation ones (an MLC conv_template's stop_token_ids) */
  stopIds?: readonly number[];
  /**
   * Control tokens whose text goes into the output all the same (llama.cpp's preserved_tokens), for
   * a parser that needs them, such as a tool-call marker; whoever shows the text hides them again.
   */
  preservedIds?: readonly number[];
  signal?: AbortSignal;
  /**
   * When the conversation outgrows the context: true (default) shifts it as llama.cpp does (keep
   * the first nKeep tokens, drop the oldest half of the rest, go on); false stops with 'length'.
   */
  contextShift?: boolean;
  /** tokens at the start that a shift never drops (BOS + system prompt); default: the BOS, if any */
  nKeep?: number;
  /** constrain the answer to a GBNF grammar (llama.cpp's `grammar`) */
  grammar?: string;
  /** constrain the answer to JSON (OpenAI's response_format: json_object, or json_schema) */
  responseFormat?: ResponseFormat;
  /** constrain the answer to a JSON schema directly (llama-server's `json_schema`) */
  jsonSchema?: unknown;
  /**
   * Report each generated token's logprob and this many top alternatives (0..20; engine/logprobs.ts
   * says of what); absent: none, and no step pays for them.
   */
  logprobs?: number;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerationStats {
  promptTokens: number;
  /** prompt tokens actually computed (the rest came from the KV cache) */
  prefilledTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  timeToFirstTokenMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  finishReason: FinishReason;
  /** context shifts during this answer (a prompt cut to fit counts as one) */
  contextShifts: number;
}

export type GenerateEvent =
  /**
   * `logprobs` (when asked for): the tokens whose text this event's text completes, in order; a
   * token whose text was held back (a stop string may be starting) comes with the event that emits
   * it, and one whose text a stop string swallowed whole is never reported, so the tokens spell the
   * answer (llama-server drops as many tokens as the stop text tokenizes to, which can be one more).
   */
  | { type: 'token'; id: number; text: string; logprobs?: TokenLogprob[] }
  | { type: 'done'; text: string; ids: number[]; stats: GenerationStats };

const now = () => performance.now();

/**
 * Called when the backend fails mid-run (WebGPU device lost, out of GPU memory): returns the same
 * model on another backend (WASM), or rethrows. The session then rebuilds the KV cache and goes on.
 */
export type Recover = (error: EngineError) => Promise<LoadedModel>;

type StepLogits = { full: Float32Array } | { ids: ArrayLike<number>; values: ArrayLike<number> };

function pick(sampler: Sampler, l: StepLogits): number {
  return 'full' in l ? sampler.sample(l.full) : sampler.sampleTop(l.ids, l.values);
}

/**
 * The grammar's mask goes on before the sampler chain: disallowed tokens get -Infinity. It needs
 * the full logits (a device top-k could hold only disallowed tokens), so constrained steps ask for
 * them; the mask is written into them in place (each step's logits are a fresh array of its own).
 */
function pickConstrained(sampler: Sampler, l: StepLogits, c: GrammarConstraint): number {
  if (!('full' in l)) throw new EngineError('BACKEND', 'A constrained step got top-k logits instead of the full distribution.');
  return pickUnderGrammar(l.full, c, (x) => sampler.sample(x), sampler.params.temperature <= 0);
}

export class Session {
  /** tokens whose keys/values are in the cache, in order */
  private cached: number[] = [];

  constructor(public model: LoadedModel, private readonly recover?: Recover) {}

  /**
   * The next-token distribution after `ids` at pos0: the k best logits computed on the device when
   * k > 0 and the backend can (a few bytes read back per token), else all of them. On a backend
   * failure, switches backend (recover) and replays the history into the new cache.
   */
  private async step(ids: Int32Array, pos0: number, k: number, signal?: AbortSignal): Promise<StepLogits> {
    const run = async (m: LoadedModel, x: Int32Array, p: number): Promise<StepLogits> =>
      k > 0 && m.decoder.backend.topK ? m.decoder.forwardTopK(x, p, k, signal) : { full: await m.decoder.forward(x, p, false, signal) };
    try {
      return await run(this.model, ids, pos0);
    } catch (e) {
      if (!this.recover || !(e instanceof EngineError) || e.code !== 'BACKEND') throw e;
      this.model = await this.recover(e);
      return run(this.model, Int32Array.from([...this.cached.slice(0, pos0), ...ids]), 0);
    }
  }

  /** Prompt ids as the CLI contract defines them: [BOS if the model adds one] + tokenize(text). */
  promptIds(text: string, parseSpecial = false): number[] {
    const t = this.model.tokenizer;
    const ids = t.encode(text, { parseSpecial });
    return t.addBos && t.bosId !== null ? [t.bosId, ...ids] : ids;
  }

  /** Forgets the cache (e.g. after a backend switch). */
  reset(): void {
    this.cached = [];
  }

  /**
   * The distribution after `ids`, reusing whatever prefix of them is already cached; null when the
   * signal stopped it (the tokens computed before the stop stay cached for the next prompt).
   */
  private async prefill(ids: readonly number[], k: number, signal?: AbortSignal): Promise<{ logits: StepLogits | null; computed: number }> {
    if (ids.length === 0) throw new EngineError('BAD_ARGUMENT', 'The prompt is empty: nothing to continue from.');
    let keep = 0;
    while (keep < this.cached.length && keep < ids.length - 1 && this.cached[keep] === ids[keep]) keep++;
    const rest = Int32Array.from(ids.slice(keep));
    this.cached = this.cached.slice(0, keep);
    try {
      const logits = await this.step(rest, keep, k, signal);
      this.cached.push(...rest);
      return { logits, computed: rest.length };
    } catch (e) {
      if (!(e instanceof ForwardAborted)) throw e;
      this.cached.push(...rest.subarray(0, e.computed));
      return { logits: null, computed: e.computed };
    }
  }

  /**
   * Context shift (llama.cpp's): keeps the first nKeep tokens, drops the oldest half of the rest,
   * and moves the kept keys to their new positions in place; where the cache cannot (a sliding
   * ring that no longer holds what the next window reads, a backend without the op) the kept
   * tokens are computed again at their new positions instead.
   */
  private async shiftContext(nKeep: number): Promise<void> {
    const d = this.model.decoder;
    const n = this.cached.length;
    const keep = Math.max(0, Math.min(nKeep, d.opts.nCtx - 4));
    const discard = Math.floor((n - keep) / 2);
    if (discard < 1) throw new EngineError('CONTEXT_FULL', `The context of ${d.opts.nCtx} tokens is too small to shift (${keep} kept).`);
    const kept = [...this.cached.slice(0, keep), ...this.cached.slice(keep + discard)];
    if (d.canShift(keep, discard, n)) {
      d.shift(keep, discard, n);
    } else {
      this.cached = [];
      await this.step(Int32Array.from(kept), 0, 0);
    }
    this.cached = kept;
  }

  async *generate(promptIds: readonly number[], opts: GenerateOptions = {}): AsyncGenerator<GenerateEvent> {
    const tok = this.model.tokenizer;
    const maxTokens = opts.maxTokens ?? 256;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new EngineError('BAD_ARGUMENT', `maxTokens must be a whole number ≥ 0 (got ${maxTokens}).`);
    const sampler = new Sampler(opts.sampling ?? {}, tok.vocabSize, this.model.samplingDefaults);
    const constraint = compileConstraint(tok, opts);
    const lp = opts.logprobs === undefined ? null : new LogprobReader(opts.logprobs);
    // the mask is written into the logits in place; logprobs are of the raw distribution, so keep a copy
    const raw = constraint && lp ? new Float32Array(tok.vocabSize) : null;
    let pendingLp: TokenLogprob[] = [];
    // a grammar mask and logprobs both need the whole distribution, not a device top-k
    const need = (): number => (constraint || lp ? 0 : sampler.candidatesNeeded());
    for (const id of promptIds) sampler.accept(id);
    const stops = new StopStringMatcher(opts.stop ?? []);
    const stopIds = new Set(opts.stopIds);
    // A space-prefix vocab (SPM) drops the first word's space when nothing but BOS precedes it (llama2.c, HF).
    const onlyControl = promptIds.every((id) => tok.tokenType(id) === 'control');
    const stream = createStreamDecoder(tok, {
      stripLeadingSpace: tok.addSpacePrefix && onlyControl, ...(opts.preservedIds?.length ? { specialIds: new Set(opts.preservedIds) } : {}),
    });

    const nCtx = this.model.decoder.opts.nCtx;
    const shiftOn = opts.contextShift ?? true;
    const nKeep = opts.nKeep ?? (tok.addBos && tok.bosId !== null && promptIds[0] === tok.bosId ? 1 : 0);
    let shifts = 0;
    let prompt = promptIds;
    if (prompt.length >= nCtx) {
      if (!shiftOn) {
        throw new EngineError('CONTEXT_FULL', `The prompt is ${prompt.length} tokens long but the context holds ${nCtx}; shorten it or turn context shift on.`);
      }
      prompt = cutPrompt(prompt, nCtx, nKeep);
      shifts++;
    }

    const t0 = now();
    const pre = await this.prefill(prompt, need(), opts.signal);
    let logits = pre.logits;
    const computed = pre.computed;
    const t1 = now();
    const ids: number[] = [];
    let text = '';
    let finish: FinishReason = 'length';
    let tFirst = 0;
    while (ids.length < maxTokens) {
      if (opts.signal?.aborted || !logits) { finish = 'abort'; break; }
      if (raw && 'full' in logits) raw.set(logits.full);
      const id = constraint ? pickConstrained(sampler, logits, constraint) : pick(sampler, logits);
      if (tok.eogIds.has(id) || stopIds.has(id)) { finish = 'stop'; break; }
      if (lp) {
        if (!('full' in logits)) throw new EngineError('BACKEND', 'A logprobs step got top-k logits instead of the full distribution.');
        pendingLp.push(lp.read(raw ?? logits.full, id));
      }
      ids.push(id);
      sampler.accept(id);
      constraint?.accept(id);
      if (ids.length === 1) tFirst = now();
      const r = stops.push(stream.push(id));
      if (r.emit) {
        text += r.emit;
        if (lp) { yield { type: 'token', id, text: r.emit, logprobs: pendingLp }; pendingLp = []; }
        else yield { type: 'token', id, text: r.emit };
      }
      if (r.stopped) { finish = 'stop'; break; }
      // the grammar is complete and nothing may follow: only EOG is left, so stop without another step
      if (constraint?.done) { finish = 'stop'; break; }
      if (ids.length === maxTokens) break;
      if (this.cached.length >= nCtx) {
        if (!shiftOn) break; // finish 'length', as llama.cpp without context shift
        await this.shiftContext(nKeep);
        shifts++;
      }
      logits = await this.step(Int32Array.of(id), this.cached.length, need());
      this.cached.push(id);
    }
    if (!stops.stopped) {
      const tail = stops.push(stream.flush()).emit + stops.flush();
      // (tokens with no text, such as a control token, still get their logprobs reported)
      if (tail || pendingLp.length) { text += tail; yield { type: 'token', id: -1, text: tail, ...(lp ? { logprobs: pendingLp } : {}) }; }
    }
    const t2 = now();
    const prefillMs = t1 - t0, decodeMs = ids.length > 1 ? t2 - tFirst : 0;
    yield {
      type: 'done', text, ids,
      stats: {
        promptTokens: prompt.length, prefilledTokens: computed, generatedTokens: ids.length,
        prefillMs, decodeMs, timeToFirstTokenMs: ids.length ? tFirst - t0 : 0,
        prefillTokensPerSec: prefillMs > 0 ? (computed / prefillMs) * 1000 : 0,
        decodeTokensPerSec: decodeMs > 0 ? ((ids.length - 1) / decodeMs) * 1000 : 0,
        finishReason: finish,
        contextShifts: shifts,
      },
    };
  }

  /** ppl = exp(mean over i=1..n-1 of -ln p(ids[i] | ids[<i])), one context, plain softmax. */
  async perplexity(ids: readonly number[]): Promise<{ ppl: number; nTokens: number }> {
    const n = ids.length;
    if (n < 2) throw new EngineError('BAD_ARGUMENT', 'Perplexity needs at least two tokens.');
    const { decoder } = this.model;
    const V = this.model.h.vocabSize;
    this.cached = [];
    let nll = 0;
    const batch = decoder.opts.maxBatch;
    for (let start = 0; start < n - 1; start += batch) {
      const chunk = Int32Array.from(ids.slice(start, Math.min(n - 1, start + batch)));
      const logits = await decoder.forward(chunk, start, true);
      for (let t = 0; t < chunk.length; t++) nll -= logSoftmaxAt(logits.subarray(t * V, (t + 1) * V), ids[start + t + 1]);
    }
    this.cached = ids.slice(0, n - 1);
    return { ppl: Math.exp(nll / (n - 1)), nTokens: n };
  }
}

/**
 * A prompt longer than the context, cut as llama.cpp's server cuts it: the first nKeep tokens,
 * then the rest minus whole blocks of half the remaining context from its oldest end.
 */
export function cutPrompt(ids: readonly number[], nCtx: number, nKeep: number): number[] {
  const keep = Math.max(0, Math.min(nKeep, nCtx - 4));
  const block = Math.max(1, Math.floor((nCtx - keep) / 2));
  const erased = Math.ceil((ids.length - keep - block) / block);
  return [...ids.slice(0, keep), ...ids.slice(keep + erased * block)];
}

function logSoftmaxAt(x: Float32Array, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return x[target] - max - Math.log(sum);
}
