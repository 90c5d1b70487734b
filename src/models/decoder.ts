// The decoder-only transformer forward pass shared by every supported architecture, written
// top to bottom in backend ops (llama2.c's run.c is the model for clarity).
import type { Activation, Backend, RopeParams } from '../backends/backend.ts';
import { EngineError } from '../shared/errors.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';
import type { ModelWeights } from './weights.ts';

export interface DecoderOptions {
  /** context length (KV cache positions) */
  nCtx: number;
  /** most tokens pushed through the network at once; longer inputs are split */
  maxBatch: number;
  kvType: 'f32' | 'f16';
}

/** Scratch activations for up to maxBatch tokens, allocated once. */
interface Scratch {
  x: Activation; xb: Activation; q: Activation; k: Activation; v: Activation; att: Activation;
  gate: Activation; up: Activation; last: Activation; logits: Activation;
}

export class Decoder {
  readonly rope: RopeParams;
  private readonly s: Scratch;

  constructor(readonly backend: Backend, readonly h: HParams, readonly arch: ArchSpec,
    readonly w: ModelWeights, readonly opts: DecoderOptions) {
    const { dim, nHead, nHeadKV, headDim, ffDim, vocabSize } = h;
    const B = opts.maxBatch;
    const a = (n: number) => backend.alloc(n);
    this.s = {
      x: a(B * dim), xb: a(B * dim), q: a(B * nHead * headDim), k: a(B * nHeadKV * headDim),
      v: a(B * nHeadKV * headDim), att: a(B * nHead * headDim), gate: a(B * ffDim), up: a(B * ffDim),
      last: a(dim), logits: a(B * vocabSize),
    };
    backend.createKVCache({ nLayers: h.nLayers, nCtx: opts.nCtx, kvDim: nHeadKV * headDim, type: opts.kvType });
    let freqFactors = w.ropeFreqs;
    if (h.ropeLinearFactor !== 1) {
      freqFactors = (freqFactors ?? new Float32Array(h.nRot / 2).fill(1)).map((f) => f * h.ropeLinearFactor);
    }
    this.rope = { nRot: h.nRot, freqBase: h.ropeBase, neox: arch.ropeNeox, freqFactors };
  }

  /**
   * Runs `ids` at positions pos0.. and returns logits: of every token ([n][vocab]) when `all`,
   * else of the last token only. Inputs longer than maxBatch are processed in slices.
   */
  async forward(ids: Int32Array, pos0: number, all: boolean): Promise<Float32Array> {
    this.checkContext(pos0, ids.length);
    const V = this.h.vocabSize;
    const out = new Float32Array((all ? ids.length : 1) * V);
    for (let start = 0; start < ids.length; start += this.opts.maxBatch) {
      const chunk = ids.subarray(start, Math.min(ids.length, start + this.opts.maxBatch));
      this.layers(chunk, pos0 + start);
      if (all) {
        out.set(await this.head(chunk.length, false), start * V);
      } else if (start + chunk.length === ids.length) {
        out.set(await this.head(chunk.length, true));
      }
    }
    return out;
  }

  /** Embeds the tokens and runs every transformer block; the hidden state ends in s.x. */
  private layers(ids: Int32Array, pos0: number): void {
    const { backend: b, h, s, w } = this;
    const n = ids.length;
    b.embed(w.tokEmbd, ids, s.x);
    w.layers.forEach((L, l) => {
      // attention
      b.rmsnorm(s.x, L.attnNorm, s.xb, n, h.rmsEps);
      b.matmul(L.wq, s.xb, s.q, n);
      b.matmul(L.wk, s.xb, s.k, n);
      b.matmul(L.wv, s.xb, s.v, n);
      if (L.bq && L.bk && L.bv) {
        b.addBias(s.q, L.bq, n);
        b.addBias(s.k, L.bk, n);
        b.addBias(s.v, L.bv, n);
      }
      b.rope(s.q, n, h.nHead, h.headDim, pos0, this.rope);
      b.rope(s.k, n, h.nHeadKV, h.headDim, pos0, this.rope);
      b.storeKV(l, s.k, s.v, pos0, n);
      b.attention(l, s.q, s.att, pos0, n, h.nHead, h.nHeadKV, h.headDim, 1 / Math.sqrt(h.headDim));
      b.matmul(L.wo, s.att, s.xb, n);
      b.add(s.x, s.xb, n * h.dim);
      // feed-forward (SwiGLU)
      b.rmsnorm(s.x, L.ffnNorm, s.xb, n, h.rmsEps);
      b.matmul(L.gate, s.xb, s.gate, n);
      b.matmul(L.up, s.xb, s.up, n);
      b.swiglu(s.gate, s.up, s.gate, n * h.ffDim);
      b.matmul(L.down, s.gate, s.xb, n);
      b.add(s.x, s.xb, n * h.dim);
    });
  }

  /**
   * Logits of the last token of `ids` reduced on the device to its k best candidates (largest
   * first), so decoding reads back a few bytes; needs a backend with topK.
   */
  async forwardTopK(ids: Int32Array, pos0: number, k: number): Promise<{ ids: ArrayLike<number>; values: ArrayLike<number> }> {
    const topK = this.backend.topK;
    if (!topK) throw new EngineError('BACKEND', `The ${this.backend.name} backend has no device-side top-k.`);
    this.checkContext(pos0, ids.length);
    for (let start = 0; start < ids.length; start += this.opts.maxBatch) {
      const chunk = ids.subarray(start, Math.min(ids.length, start + this.opts.maxBatch));
      this.layers(chunk, pos0 + start);
      if (start + chunk.length === ids.length) this.lastLogits(chunk.length);
    }
    return topK.call(this.backend, this.s.logits, Math.min(k, this.h.vocabSize), this.h.vocabSize);
  }

  private checkContext(pos0: number, n: number): void {
    if (pos0 + n > this.opts.nCtx) {
      throw new EngineError('CONTEXT_FULL', `The conversation needs ${pos0 + n} tokens but the context holds ${this.opts.nCtx}.`);
    }
  }

  /** Final norm + LM head of the last of n tokens into s.logits[0..vocab). */
  private lastLogits(n: number): void {
    const { backend: b, h, s, w } = this;
    b.copy(s.x, (n - 1) * h.dim, s.last, 0, h.dim);
    b.rmsnorm(s.last, w.outputNorm, s.xb, 1, h.rmsEps);
    b.matmul(w.output, s.xb, s.logits, 1);
  }

  /** Final norm + LM head over all n tokens, or only the last one. */
  private async head(n: number, lastOnly: boolean): Promise<Float32Array> {
    const { backend: b, h, s, w } = this;
    if (lastOnly) {
      this.lastLogits(n);
      return b.read(s.logits, 0, h.vocabSize);
    }
    b.rmsnorm(s.x, w.outputNorm, s.xb, n, h.rmsEps);
    b.matmul(w.output, s.xb, s.logits, n);
    return b.read(s.logits, 0, n * h.vocabSize);
  }
}
