// The decoder-only transformer forward pass shared by every supported family, written top to
// bottom in backend ops (llama2.c's run.c is the model for clarity). What differs between families
// comes from their declarations (arch.ts) through the per-layer plan (layer-plan.ts); nothing here
// tests a family's name.
import { gatedMatmul, matmulAdd, qkvMatmul, ropeAttention, ropeStoreKV, type Activation, type Backend, type QKVBias, type Weight } from '../backends/backend.ts';
import type { KVType } from '../backends/kv-layout.ts';
import { EngineError } from '../shared/errors.ts';
import { macrotask } from '../shared/yield.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';
import { planModel, type ModelPlan } from './layer-plan.ts';
import type { LayerWeights, ModelWeights } from './weights.ts';

/** Tokens per forward slice unless the loader is told otherwise (capped at the context). */
export const DEFAULT_MAX_BATCH = 64;

export interface DecoderOptions {
  /** context length (KV cache positions) */
  nCtx: number;
  /** most tokens pushed through the network at once; longer inputs are split */
  maxBatch: number;
  kvType: KVType;
}

/** A forward pass stopped between batches; the first `computed` tokens are in the KV cache. */
export class ForwardAborted extends EngineError {
  constructor(readonly computed: number) {
    super('ABORTED', `Stopped after ${computed} prompt tokens.`);
    this.name = 'ForwardAborted';
  }
}

/** Scratch activations for up to maxBatch tokens, allocated once. */
interface Scratch {
  x: Activation; xb: Activation; xb2: Activation; q: Activation; k: Activation; v: Activation;
  qn: Activation; kn: Activation; att: Activation;
  gate: Activation; up: Activation; last: Activation; logits: Activation;
}

export class Decoder {
  readonly plan: ModelPlan;
  private readonly s: Scratch;

  /**
   * Float counts of the scratch activations for batches of up to maxBatch tokens, in allocation
   * order (the memory pre-flight counts these; 1 = a placeholder the family does not use).
   */
  static scratchLengths(h: HParams, arch: ArchSpec, maxBatch: number): Record<keyof Scratch, number> {
    const { dim, nHead, nHeadKV, headDim, ffDim, vocabSize } = h;
    const B = maxBatch;
    const qDim = nHead * headDim, kvDim = nHeadKV * headDim;
    return {
      x: B * dim, xb: B * dim, xb2: arch.postNorms ? B * dim : 1,
      q: B * qDim, k: B * kvDim, v: B * kvDim,
      // q/k-norm writes into these: a WebGPU dispatch cannot read and write one buffer
      qn: arch.qkNorm ? B * qDim : 1, kn: arch.qkNorm ? B * kvDim : 1,
      att: B * qDim, gate: B * ffDim, up: B * ffDim,
      last: dim, logits: B * vocabSize,
    };
  }

  constructor(readonly backend: Backend, readonly h: HParams, readonly arch: ArchSpec,
    readonly w: ModelWeights, readonly opts: DecoderOptions) {
    const B = opts.maxBatch;
    const kvDim = h.nHeadKV * h.headDim;
    const lengths = Decoder.scratchLengths(h, arch, B);
    this.s = Object.fromEntries(Object.entries(lengths).map(([k, n]) => [k, backend.alloc(n)])) as unknown as Scratch;
    this.plan = planModel(h, arch, w.ropeFactors, opts.nCtx, B);
    backend.createKVCache({ nLayers: h.nLayers, nCtx: opts.nCtx, kvDim, type: opts.kvType,
      slots: this.plan.layers.map((p) => p.slots) });
  }

  /**
   * Runs `ids` at positions pos0.. and returns logits: of every token ([n][vocab]) when `all`,
   * else of the last token only. Inputs longer than maxBatch are processed in slices; with a
   * signal, an abort stops between slices (ForwardAborted says how many tokens were cached).
   */
  async forward(ids: Int32Array, pos0: number, all: boolean, signal?: AbortSignal): Promise<Float32Array> {
    this.checkContext(pos0, ids.length);
    const V = this.h.vocabSize;
    const out = new Float32Array((all ? ids.length : 1) * V);
    await this.batches(ids, pos0, signal, async (chunk, start, last) => {
      if (all) out.set(await this.head(chunk.length, false), start * V);
      else if (last) out.set(await this.head(chunk.length, true));
    });
    return out;
  }

  /** Runs the layers over maxBatch slices of ids; `after` sees each slice once its layers are recorded. */
  private async batches(ids: Int32Array, pos0: number, signal: AbortSignal | undefined,
    after: (chunk: Int32Array, start: number, last: boolean) => Promise<void> | void): Promise<void> {
    const B = this.opts.maxBatch;
    for (let start = 0; start < ids.length; start += B) {
      if (signal && start > 0) {
        // let the device finish this slice and the event loop deliver an abort before the next one
        await this.backend.sync?.();
        await macrotask();
      }
      if (signal?.aborted) throw new ForwardAborted(start);
      const chunk = ids.subarray(start, Math.min(ids.length, start + B));
      const streamed = this.layers(chunk, pos0 + start);
      if (streamed) await streamed;
      await after(chunk, start, start + chunk.length === ids.length);
    }
  }

  /**
   * Embeds the tokens and runs every transformer block; the hidden state ends in s.x. Synchronous
   * when every layer is resident; a streamed layer is awaited (its read started while the layer
   * before it computed).
   */
  private layers(ids: Int32Array, pos0: number): void | Promise<void> {
    const { h, w } = this;
    const n = ids.length;
    const stream = w.stream;
    if (!stream && w.tokEmbd) {
      this.embed(w.tokEmbd, ids);
      w.layers.forEach((L, l) => this.block(L!, l, n, pos0));
      return;
    }
    return (async () => {
      // streamed embeddings: a table of just these tokens' rows
      if (w.tokEmbd) this.embed(w.tokEmbd, ids);
      else this.embed(await w.embedRows!.rows(ids), Int32Array.from(ids, (_, t) => t));
      for (let l = 0; l < h.nLayers; l++) this.block(w.layers[l] ?? await stream!.layer(l) as unknown as LayerWeights, l, n, pos0);
    })();
  }

  private embed(table: Weight, ids: Int32Array): void {
    const { backend: b, h, s, plan } = this;
    b.embed(table, ids, s.x);
    if (plan.embedScale !== 1) b.scale(s.x, ids.length * h.dim, plan.embedScale);
  }

  /** s.logits = LM head · s.xb for n tokens; a streamed head runs in row runs through s.gate. */
  private logits(n: number): void | Promise<void> {
    const { backend: b, h, s, w } = this;
    if (w.output) return b.matmul(w.output, s.xb, s.logits, n);
    return (async () => {
      for (const r of w.headRuns!) {
        // a run has at most ffDim rows, so n tokens' logits of it fit the idle FFN scratch
        b.matmul((await w.stream!.layer(r.unit)).output, s.xb, s.gate, n);
        for (let t = 0; t < n; t++) b.copy(s.gate, t * r.rows, s.logits, t * h.vocabSize + r.row0, r.rows);
      }
    })();
  }

  /** Transformer block l over n tokens at positions pos0.. (in and out: s.x). */
  private block(L: LayerWeights, l: number, n: number, pos0: number): void {
    const { backend: b, h, s, plan } = this;
    const P = plan.layers[l];
    // attention
    qkvMatmul(b, L.wq, L.wk, L.wv, s.x, s.q, s.k, s.v, n, { weight: L.attnNorm, eps: h.rmsEps, out: s.xb });
    let q = s.q, k = s.k;
    // Qwen2's biases ride into the KV store and attention (ropeStoreKV, ropeAttention, which add
    // them where the backend cannot); per-head q/k norms come after them, so there they go first
    let bias: QKVBias = { q: L.bq, k: L.bk, v: L.bv };
    if (L.qNorm && L.kNorm) {
      for (const [x, w] of [[s.q, L.bq], [s.k, L.bk], [s.v, L.bv]] as const) if (w) b.addBias(x, w, n);
      bias = {};
      // one RMSNorm per head: rows of headDim
      b.rmsnorm(s.q, L.qNorm, s.qn, n * h.nHead, h.rmsEps);
      b.rmsnorm(s.k, L.kNorm, s.kn, n * h.nHeadKV, h.rmsEps);
      q = s.qn; k = s.kn;
    }
    // k is turned on its way into the cache and q on its way into attention (nothing reads them after)
    ropeStoreKV(b, l, k, s.v, pos0, n, h.nHeadKV, h.headDim, P.rope, bias);
    ropeAttention(b, l, q, s.att, pos0, n, P.attn, P.rope, bias.q);
    this.residual(L.wo, s.att, L.attnPostNorm, n);
    // feed-forward (gated)
    gatedMatmul(b, L.gate, L.up, s.x, s.gate, s.up, n, this.arch.ffn, { weight: L.ffnNorm, eps: h.rmsEps, out: s.xb });
    this.residual(L.down, s.gate, L.ffnPostNorm, n);
  }

  /** x += w · y, through the block's post-norm when the family has one (else in the matmul's store where the backend can). */
  private residual(w: Weight, y: Activation, postNorm: Weight | undefined, n: number): void {
    const { backend: b, h, s } = this;
    if (!postNorm) return matmulAdd(b, w, y, s.x, s.xb, n);
    b.matmul(w, y, s.xb, n);
    b.rmsnorm(s.xb, postNorm, s.xb2, n, h.rmsEps);
    b.add(s.x, s.xb2, n * h.dim);
  }

  /**
   * Logits of the last token of `ids` reduced on the device to its k best candidates (largest
   * first), so decoding reads back a few bytes; needs a backend with topK.
   */
  async forwardTopK(ids: Int32Array, pos0: number, k: number, signal?: AbortSignal): Promise<{ ids: ArrayLike<number>; values: ArrayLike<number> }> {
    const topK = this.backend.topK;
    if (!topK) throw new EngineError('BACKEND', `The ${this.backend.name} backend has no device-side top-k.`);
    this.checkContext(pos0, ids.length);
    await this.batches(ids, pos0, signal, async (chunk, _start, last) => { if (last) await this.lastLogits(chunk.length); });
    return topK.call(this.backend, this.s.logits, Math.min(k, this.h.vocabSize), this.h.vocabSize);
  }

  /**
   * Whether the cache can drop positions [keep, keep + discard) of `end` in place (shift): the
   * backend must move keys, and a sliding ring must still hold every key the next windows read.
   */
  canShift(keep: number, discard: number, end: number): boolean {
    if (!this.backend.shiftKV) return false;
    return this.plan.layers.every((P) => P.slots >= end
      || (!!P.attn.window && end - discard - P.attn.window + 1 >= keep));
  }

  /** Context shift, as llama.cpp's: the kept keys move to their new positions, rotated back by discard. */
  shift(keep: number, discard: number, end: number): void {
    const { nHeadKV, headDim } = this.h;
    this.plan.layers.forEach((P, l) => this.backend.shiftKV!(l, keep, discard, end,
      { nHeadKV, headDim, rope: P.rope ? { ...P.rope, attnFactor: 1 } : undefined, scratch: this.s.k }));
  }

  private checkContext(pos0: number, n: number): void {
    if (pos0 + n > this.opts.nCtx) {
      throw new EngineError('CONTEXT_FULL', `The conversation needs ${pos0 + n} tokens but the context holds ${this.opts.nCtx}.`);
    }
  }

  /** Final norm + LM head of the last of n tokens into s.logits[0..vocab). */
  private async lastLogits(n: number): Promise<void> {
    const { backend: b, h, s, w } = this;
    // a decode step's one row is already the last (no copy: one dispatch less on the GPU)
    if (n > 1) b.copy(s.x, (n - 1) * h.dim, s.last, 0, h.dim);
    b.rmsnorm(n > 1 ? s.last : s.x, w.outputNorm, s.xb, 1, h.rmsEps);
    const streamed = this.logits(1);
    if (streamed) await streamed;
    if (this.plan.finalSoftcap) b.softcap(s.logits, h.vocabSize, this.plan.finalSoftcap);
  }

  /** Final norm + LM head over all n tokens, or only the last one. */
  private async head(n: number, lastOnly: boolean): Promise<Float32Array> {
    const { backend: b, h, s, w } = this;
    if (lastOnly) {
      await this.lastLogits(n);
      return b.read(s.logits, 0, h.vocabSize);
    }
    b.rmsnorm(s.x, w.outputNorm, s.xb, n, h.rmsEps);
    const streamed = this.logits(n);
    if (streamed) await streamed;
    if (this.plan.finalSoftcap) b.softcap(s.logits, n * h.vocabSize, this.plan.finalSoftcap);
    return b.read(s.logits, 0, n * h.vocabSize);
  }
}
