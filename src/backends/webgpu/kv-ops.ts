// The KV cache and the ops on it (store, rope-in-store, shift, attention), plus rope, which shares its (cos, sin) table.
import type { Activation, AttentionParams, KVBias, KVCacheSpec, KVShiftParams, RopeParams, Weight } from '../backend.ts';
import { GGMLType } from '../../quant/types.ts';
import { check } from '../../shared/assert.ts';
import { allocKV, type KVLayer } from './buffers.ts';
import { KV_TYPES, kvRowBytes, shiftedPositions, type KVType } from '../kv-layout.ts';
import { ropeTable } from './rope-table.ts';
import { act, WG, wt, type OpContext } from './op-context.ts';

/** storeKVRoped's rope (heads of headDim) and the f32 buffers of its k and v biases, if any */
interface StoreRope { headDim: number; p: RopeParams; bias?: [GPUBuffer, GPUBuffer] }

export class KVCacheOps {
  private kv: KVLayer[] = [];
  private kvSpec: KVCacheSpec | null = null;
  private kvType: KVType = 'f32';
  private ropeCache: { key: string; factors: Float32Array | undefined; submits: number; buf: GPUBuffer } | null = null;
  private noRopeTable: GPUBuffer | null = null;

  constructor(private readonly ctx: OpContext) {}

  /** (re)allocates the cache: kvType overrides the spec's type */
  create(spec: KVCacheSpec, kvType: KVType | undefined, deviceLimit: number): void {
    this.ctx.alive();
    this.ctx.rec.flush();
    for (const l of this.kv) { l.k.destroy(); l.v.destroy(); }
    this.kvType = kvType ?? spec.type;
    const slots = spec.slots ?? new Array<number>(spec.nLayers).fill(spec.nCtx);
    check(slots.length === spec.nLayers && slots.every((n) => Number.isInteger(n) && n > 0 && n <= spec.nCtx), 'BAD_ARGUMENT',
      `KV cache slots must give 1..${spec.nCtx} positions for each of ${spec.nLayers} layers.`);
    this.kv = allocKV(this.ctx.device, deviceLimit, slots, spec.kvDim, this.kvType);
    this.kvSpec = spec;
  }

  /** device bytes of the cache's layers */
  bytes(): number {
    return this.kv.reduce((s, l) => s + l.k.size + l.v.size, 0);
  }

  rope(x: Activation, nTokens: number, nHeads: number, headDim: number, pos0: number, p: RopeParams): void {
    this.ctx.alive();
    check(p.nRot % 2 === 0 && p.nRot <= headDim && x.length >= nTokens * nHeads * headDim, 'BAD_ARGUMENT', `rope shapes do not fit (nRot ${p.nRot}, headDim ${headDim}).`);
    const cs = this.ropeCS(pos0, nTokens, p);
    const total = nTokens * nHeads * (p.nRot / 2);
    const [gx, gy] = this.ctx.rec.grid(Math.ceil(total / WG));
    this.ctx.rec.dispatch(this.ctx.pipes.plain('rope', { WG }), [act(x).buffer, cs],
      [nTokens, nHeads, headDim, p.nRot, p.neox ? 1 : 0, gx, 0, 0], [gx, gy],
      { op: 'rope', wg: WG, activations: total * 8 + nTokens * p.nRot * 4 });
  }

  /** (cos, sin) of positions pos0.. for rope and storeKVRoped: q and k of every layer share one
   *  table per batch (the factors by identity, as the WASM backend does: the layer plan shares one
   *  array per kind of layer); a table lives until the next submit. */
  private ropeCS(pos0: number, nTokens: number, p: RopeParams): GPUBuffer {
    const key = `${pos0}:${nTokens}:${p.nRot}:${p.freqBase}:${p.attnFactor ?? 1}`;
    let c = this.ropeCache;
    if (!c || c.key !== key || c.factors !== p.freqFactors || c.submits !== this.ctx.rec.submits) {
      c = this.ropeCache = { key, factors: p.freqFactors, submits: this.ctx.rec.submits, buf: this.ctx.rec.temp(ropeTable(pos0, nTokens, p)) };
    }
    return c.buf;
  }

  /** bound where a kernel's rope table is unused (layout 'auto' keeps the binding) */
  private unusedTable(): GPUBuffer {
    return this.noRopeTable ??= this.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  }

  private layer(l: number): KVLayer {
    const spec = this.kvSpec;
    check(spec && l >= 0 && l < spec.nLayers, 'BAD_ARGUMENT', `No KV cache for layer ${l}; call createKVCache first.`);
    return this.kv[l];
  }

  storeKV(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number): void {
    this.storeChecked(layer, k, v, pos0, nTokens);
  }

  storeKVRoped(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, headDim: number, p: RopeParams,
    bias?: KVBias): boolean {
    if (!this.ctx.fuse) return false;
    check(p.nRot % 2 === 0 && p.nRot <= headDim && this.kvSpec !== null && this.kvSpec.kvDim % headDim === 0, 'BAD_ARGUMENT',
      `storeKVRoped shapes do not fit (nRot ${p.nRot}, headDim ${headDim}, KV width ${this.kvSpec?.kvDim}).`);
    const bk = bias && biasBuffer(bias.k, this.kvSpec.kvDim), bv = bias && biasBuffer(bias.v, this.kvSpec.kvDim);
    if (bias && (!bk || !bv)) return false;
    this.storeChecked(layer, k, v, pos0, nTokens, { headDim, p, ...(bk && bv ? { bias: [bk, bv] as [GPUBuffer, GPUBuffer] } : {}) });
    return true;
  }

  private storeChecked(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, rope?: StoreRope): void {
    this.ctx.alive();
    const L = this.layer(layer);
    const { kvDim, nCtx } = this.kvSpec!;
    check(pos0 >= 0 && pos0 + nTokens <= nCtx, 'CONTEXT_FULL', `Positions ${pos0}..${pos0 + nTokens - 1} do not fit a context of ${nCtx}.`);
    check(nTokens <= L.slots, 'BAD_ARGUMENT', `storeKV of ${nTokens} tokens overflows a ring of ${L.slots} positions.`);
    check(k.length >= nTokens * kvDim && v.length >= nTokens * kvDim, 'BAD_ARGUMENT', `storeKV of ${nTokens} rows of ${kvDim} overflows its activations.`);
    this.storeRows(L, act(k).buffer, act(v).buffer, pos0, nTokens, rope);
  }

  /** f32 rows k, v ([nTokens][kvDim]) into the layer's cache at positions pos0.., in its type; k turned first by `rope`. */
  private storeRows(L: KVLayer, k: GPUBuffer, v: GPUBuffer, pos0: number, nTokens: number, rope?: StoreRope): void {
    const { kvDim } = this.kvSpec!;
    // threads: one per word (f32, f16 pairs), or per scale word of each row (q8_0: two blocks)
    const n = this.kvType === 'q8_0' ? nTokens * Math.ceil(kvDim / 64) : (nTokens * kvDim) / (this.kvType === 'f16' ? 2 : 1);
    const [gx, gy] = this.ctx.rec.grid(Math.ceil(n / WG));
    const cs = rope ? this.ropeCS(pos0, nTokens, rope.p) : this.unusedTable();
    const bias = rope?.bias;
    this.ctx.rec.dispatch(this.ctx.pipes.plain('store-kv', { WG, KV_TYPE: KV_TYPES.indexOf(this.kvType), ROPE: !!rope, BIAS: !!bias }),
      [k, v, L.k, L.v, cs, ...(bias ?? [this.unusedTable(), this.unusedTable()])],
      [nTokens, kvDim, pos0, gx, L.slots, rope?.headDim ?? 0, rope?.p.nRot ?? 0, rope?.p.neox ? 1 : 0], [gx, gy],
      { op: `${rope ? 'store-kv-rope' : 'store-kv'}${bias ? '-bias' : ''}`, wg: WG, weights: bias ? 2 * kvDim * 4 : 0,
        activations: 2 * nTokens * kvDim * 4 + (rope ? nTokens * rope.p.nRot * 4 : 0) });
  }

  shiftKV(layer: number, keep: number, discard: number, end: number, p: KVShiftParams): void {
    this.ctx.alive();
    const L = this.layer(layer);
    const { kvDim, nCtx } = this.kvSpec!;
    check([keep, discard, end].every(Number.isInteger) && keep >= 0 && discard > 0 && keep + discard <= end && end <= nCtx, 'BAD_ARGUMENT',
      `shiftKV: cannot drop ${discard} positions after ${keep} of ${end}.`);
    check(p.nHeadKV * p.headDim === kvDim, 'BAD_ARGUMENT', `shiftKV: ${p.nHeadKV} KV heads × ${p.headDim} do not match the cache width ${kvDim}.`);
    const [lo, hi] = shiftedPositions(L.slots, keep, discard, end);
    if (hi <= lo) return;
    const rows = hi - lo;
    const [gx, gy] = this.ctx.rec.grid(Math.ceil((rows * p.nHeadKV) / WG));
    const cs = this.ctx.rec.temp(p.rope ? ropeTable(-discard, 1, { ...p.rope, attnFactor: 1 }) : new Float32Array(4));
    const kvType = KV_TYPES.indexOf(this.kvType);
    // gather the moving rows as f32 (keys turned), then store-kv writes them at their new positions
    const out = [L.k, L.v].map((buf, i) => {
      const rowsF32 = this.ctx.rec.scratch(rows * kvDim * 4);
      this.ctx.rec.dispatch(this.ctx.pipes.plain('kv-shift', { WG, KV_TYPE: kvType, ROTATE: i === 0 && !!p.rope }), [buf, rowsF32, cs],
        [lo, hi, discard, L.slots, kvDim, p.headDim, p.rope?.nRot ?? 0, p.rope?.neox ? 1 : 0, gx, 0, 0, 0], [gx, gy],
        { op: 'kv-shift', wg: WG, kv: rows * kvRowBytes(this.kvType, kvDim) });
      return rowsF32;
    });
    this.storeRows(L, out[0], out[1], lo, rows);
  }

  attentionRoped(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, a: AttentionParams, p: RopeParams,
    bias?: Weight): boolean {
    if (!this.ctx.fuse) return false;
    check(p.nRot % 2 === 0 && p.nRot <= a.headDim, 'BAD_ARGUMENT', `attentionRoped shapes do not fit (nRot ${p.nRot}, headDim ${a.headDim}).`);
    const bq = bias && biasBuffer(bias, a.nHead * a.headDim);
    if (bias && !bq) return false;
    this.attention(layer, q, out, pos0, nTokens, a, p, bq ?? undefined);
    return true;
  }

  /** attention of q over the layer's cache; q + bias (an f32 buffer) turned first by `rope` (attentionRoped). */
  attention(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, a: AttentionParams, rope?: RopeParams,
    bias?: GPUBuffer): void {
    this.ctx.alive();
    const L = this.layer(layer);
    const { kvDim, nCtx } = this.kvSpec!;
    const { nHead, nHeadKV, headDim } = a;
    const window = a.window ?? 0;
    check(nHead % nHeadKV === 0 && nHeadKV * headDim === kvDim, 'BAD_ARGUMENT', `attention heads (${nHead}/${nHeadKV} × ${headDim}) do not match the KV cache width ${kvDim}.`);
    check(headDim <= 4 * WG, 'BAD_ARGUMENT', `head size ${headDim} is above the WebGPU kernel's limit of ${4 * WG}.`);
    check(this.kvType !== 'q8_0' || headDim % 32 === 0, 'BAD_ARGUMENT', `a q8_0 KV cache needs heads of whole 32-value blocks; this model's heads have ${headDim} values (use f16).`);
    check(pos0 + nTokens <= nCtx, 'CONTEXT_FULL', `Position ${pos0 + nTokens - 1} is beyond the context of ${nCtx}.`);
    check(L.slots >= pos0 + nTokens || (window > 0 && L.slots >= window + nTokens - 1), 'BAD_ARGUMENT',
      `attention: a ring of ${L.slots} positions cannot serve a window of ${window || 'all'} over ${nTokens} tokens.`);
    const fields = [nHead, nHeadKV, headDim, pos0, kvDim, { f32: a.scale }, nTokens, window, { f32: a.softcap ?? 0 }, L.slots,
      rope?.nRot ?? 0, rope?.neox ? 1 : 0];
    const bufs = [act(q).buffer, L.k, L.v, act(out).buffer, rope ? this.ropeCS(pos0, nTokens, rope) : this.unusedTable(), bias ?? this.unusedTable()];
    const overrides = { WG, KV_TYPE: KV_TYPES.indexOf(this.kvType), ROPE: !!rope, BIAS: !!bias, ...this.ctx.reduceOverrides };
    // keys (and values) the batch attends to: all up to its last position, or its windows' union
    const keys = Math.min(pos0 + nTokens, window > 0 ? window + nTokens - 1 : Infinity, L.slots);
    const cost = { wg: WG, kv: 2 * keys * kvRowBytes(this.kvType, kvDim), weights: bias ? nHead * headDim * 4 : 0,
      activations: nTokens * nHead * headDim * 4 + (rope ? nTokens * rope.nRot * 4 : 0) };
    const tag = `${rope ? '-rope' : ''}${bias ? '-bias' : ''}`;
    if (this.ctx.threadsPerRow === 1) {
      this.ctx.rec.dispatch(this.ctx.pipes.plain('attention', overrides, 'main_serial', this.ctx.reduceVariant), bufs, fields, [Math.ceil((nHead * nTokens) / WG), 1],
        { op: `attention-serial${tag}`, ...cost });
    } else {
      this.ctx.rec.dispatch(this.ctx.pipes.plain('attention', overrides, 'main', this.ctx.reduceVariant), bufs, fields, [nHead, nTokens], { op: `attention${tag}`, ...cost });
    }
  }
}

/** A bias the fused kernels can read as array<f32>: an F32 weight of `width` values in one buffer (else null). */
function biasBuffer(w: Weight, width: number): GPUBuffer | null {
  const b = wt(w);
  return b.type === GGMLType.F32 && b.chunks.length === 1 && b.cols * b.rows === width ? b.chunks[0].buffer : null;
}
