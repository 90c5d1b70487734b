// The Backend op set on WebGPU: weights stay in their GGUF blocks on the device, every op is a
// compute dispatch recorded into one command encoder, and `read`/`topK` submit and map. Device
// loss and GPU errors become EngineError('BACKEND') so the engine can fall back to WASM.
import type { Activation, AttentionParams, Backend, GluKind, KVCacheSpec, KVShiftParams, RopeParams, Weight, WeightSlot } from '../backend.ts';
import { GPUWeightSlot } from './weight-slots.ts';
import type { GGMLType } from '../../quant/types.ts';
import { check } from '../../shared/assert.ts';
import { EngineError } from '../../shared/errors.ts';
import { allocActivation, allocKV, GPUActivation, GPUWeight, uploadWeight, type KVLayer } from './buffers.ts';
import { KV_TYPES, kvRowBytes, shiftedPositions, type KVType } from '../kv-layout.ts';
import { requestDevice, type DeviceOptions, type GPUCaps } from './device.ts';
import { Pipelines } from './pipelines.ts';
import type { KernelVariant } from './shader-source.ts';
import { Recorder, type OpCounts } from './recorder.ts';
import { ropeTable } from './rope-table.ts';

export interface WebGPUBackendOptions extends DeviceOptions {
  /** overrides the KV cache type the model asks for */
  kvType?: KVType;
  /** matmul tuning: threads sharing one weight row (power of two ≤ 64); default by adapter */
  threadsPerRow?: number;
  /** f16 products in matmul; default: when the adapter has shader-f16 */
  f16?: boolean;
  /** reductions over subgroups (matmul rows, rmsnorm, softmax, attention: reduce-*-subgroup.wgsl);
   *  default: when the adapter has subgroups and reports their sizes; false forces the
   *  workgroup-memory path */
  subgroups?: boolean;
  /** the fused kernels (matmulGlu, matmulQKV, storeKVRoped); false declines them, so callers run the
   *  separate ops (tests compare the two paths). Default true. */
  fuse?: boolean;
}

export interface WebGPUStats {
  dispatches: number;
  submits: number;
  pipelines: number;
  /** bytes of the weights' buffers (each chunk padded to 4 bytes) */
  weightBytes: number;
  /** bytes the dispatches so far read of weights, of the KV cache and of activations (each op
   *  counts the ranges its kernel reads; see DispatchCost) */
  weightBytesRead: number;
  kvBytesRead: number;
  activationBytesRead: number;
  /** device bytes held now: weights, activations, KV cache */
  deviceBytes: number;
  /** bytes mapped back to the CPU so far (logits, top-k candidates) */
  readBackBytes: number;
}

export interface TopK {
  ids: number[];
  values: number[];
}

export interface WebGPUBackend extends Backend {
  readonly caps: GPUCaps;
  /** whether the reducing kernels (matmul rows, rmsnorm, softmax, attention) run over subgroups */
  readonly subgroups: boolean;
  /** index of the largest of the first n values (lowest index on ties); reads back 8 bytes */
  argmax(logits: Activation, n?: number): Promise<number>;
  /** the k largest of the first n values, by value descending then index ascending */
  topK(logits: Activation, k: number, n?: number): Promise<TopK>;
  /** fused gate/up matmul + GLU (matmul-glu.wgsl); false for a pair of two formats or shapes */
  matmulGlu(gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, act: GluKind): boolean;
  /** fused q/k/v matmuls (matmul-qkv.wgsl); false for weights of other widths or split into chunks */
  matmulQKV(wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number): boolean;
  /** rope of k inside the KV store (store-kv.wgsl ROPE) */
  storeKVRoped(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, headDim: number, p: RopeParams): boolean;
  /** in-place softmax over each of nRows rows of `width` */
  softmax(x: Activation, nRows: number, width: number): void;
  /** device bytes held (weights, activations, KV cache), for the bench's memory figure */
  memoryBytes(): number;
  /** cb runs once when the device is lost (not on dispose) */
  onLost(cb: (e: EngineError) => void): void;
  stats(): WebGPUStats;
  /** per-kernel tallies (dispatches, workgroups, their size, bytes read) from now on; off by default */
  countPerOp(on: boolean): void;
  /** the tallies since countPerOp(true), by kernel */
  opCounts(): Record<string, OpCounts>;
  /** test hook: destroys the device as a driver reset would */
  forceDeviceLoss(): void;
}

const WG = 64;
/** top-k: invocations per workgroup and values per workgroup (C of shaders/ops/top-k.wgsl) */
export const TOPK_WG = 64;
export const TOPK_CHUNK = 1024;
/** the serial variant keeps its list in a private array of 64 */
const TOPK_SERIAL_MAX_K = 64;

/** The inputs of top-k's levels: n values, then ceil(m / chunk) · k pairs until one chunk is left
 *  (each level shrinks its input at least twofold); none when k is above half a chunk (host path). */
export function topKLevels(n: number, k: number): number[] {
  if (k > TOPK_CHUNK / 2) return [];
  const levels = [n];
  while (levels[levels.length - 1] > TOPK_CHUNK) levels.push(Math.ceil(levels[levels.length - 1] / TOPK_CHUNK) * k);
  return levels;
}

/** Above half a chunk a level would not shrink: the host sorts (same order rule). */
function topKOnHost(x: Float32Array, k: number): TopK {
  const ids = [...x.keys()].sort((i, j) => x[j] - x[i] || i - j).slice(0, k);
  return { ids, values: ids.map((i) => x[i]) };
}
const act = (a: Activation) => a as GPUActivation;
/** storeKVRoped's rope: heads of headDim */
interface StoreRope { headDim: number; p: RopeParams }
const wt = (w: Weight) => w as GPUWeight;

class WebGPUBackendImpl implements WebGPUBackend {
  readonly name = 'webgpu' as const;
  readonly threads = 1;
  private readonly rec: Recorder;
  private readonly pipes: Pipelines;
  private kv: KVLayer[] = [];
  private kvSpec: KVCacheSpec | null = null;
  private kvType: KVType = 'f32';
  private failure: EngineError | null = null;
  private disposed = false;
  private readonly lostCallbacks: ((e: EngineError) => void)[] = [];
  private weightBytes = 0;
  private readonly slots: GPUWeightSlot[] = [];
  private readBackBytes = 0;
  private activationBytes = 0;
  /** top-k's pairs: [0] the result, [1], [2] the levels between (ping-pong) */
  private topKBufs: GPUBuffer[] = [];
  private ropeCache: { key: string; factors: Float32Array | undefined; submits: number; buf: GPUBuffer } | null = null;

  /** matmul threads per row; 1 also selects the serial attention. SwiftShader runs barrier-free
   *  kernels far faster, GPUs want several lanes per row. */
  private readonly threadsPerRow: number;
  readonly subgroups: boolean;
  /** the matmul kernels' variant (f16 products, subgroup reductions), and that of the other
   *  reducing kernels (rmsnorm, softmax, attention: subgroups only) */
  private readonly variant: KernelVariant;
  private readonly reduceVariant: KernelVariant;
  /** the reduce-*-subgroup.wgsl snippets' constants (none for reduce-*-workgroup.wgsl) */
  private readonly reduceOverrides: Record<string, number | boolean>;
  private readonly fuse: boolean;
  /** bound where store-kv's rope table is unused (layout 'auto' keeps the binding) */
  private noRopeTable: GPUBuffer | null = null;

  constructor(private readonly device: GPUDevice, readonly caps: GPUCaps, private readonly opts: WebGPUBackendOptions) {
    this.threadsPerRow = opts.threadsPerRow ?? (caps.adapter.includes('swiftshader') ? 1 : 16);
    check(!opts.f16 || caps.shaderF16, 'BACKEND', 'f16 kernels were requested but this GPU adapter has no shader-f16.');
    // the subgroup snippets step in aligned runs of the smallest subgroup: a power of two
    const sg = caps.subgroups && caps.subgroupSizes && (caps.subgroupSizes.min & (caps.subgroupSizes.min - 1)) === 0 ? caps.subgroupSizes : null;
    check(!opts.subgroups || sg, 'BACKEND', 'subgroup kernels were requested but this GPU adapter has no subgroups (or does not report their sizes).');
    this.subgroups = !!sg && (opts.subgroups ?? true);
    this.variant = { f16: opts.f16 ?? caps.shaderF16, subgroups: this.subgroups };
    this.reduceVariant = { subgroups: this.subgroups };
    this.reduceOverrides = this.subgroups && sg ? { SG: sg.min, SG_EXACT: sg.min === sg.max } : {};
    this.fuse = opts.fuse ?? true;
    this.rec = new Recorder(device, caps.maxComputeWorkgroupsPerDimension);
    this.pipes = new Pipelines(device, (msg) => this.fail(`shader compilation failed: ${msg}`));
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.fail(e instanceof GPUOutOfMemoryError ? `out of GPU memory (${e.message})` : e.message);
    });
    void device.lost.then((info) => {
      if (this.disposed) return;
      const err = new EngineError('BACKEND', `The GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''}); switch to the WASM backend.`);
      this.failure ??= err;
      for (const cb of this.lostCallbacks) cb(err);
    });
  }

  /** activations and KV layers are not split: they are bound by the real limit, not the forced one */
  private get deviceLimit(): number {
    return Math.min(this.caps.maxStorageBufferBindingSize, this.caps.maxBufferSize);
  }

  private fail(msg: string): void {
    this.failure ??= new EngineError('BACKEND', `WebGPU error: ${msg}`);
  }

  private alive(): void {
    if (this.failure) throw this.failure;
    check(!this.disposed, 'BACKEND', 'The WebGPU backend was disposed.');
  }

  uploadWeight(name: string, type: GGMLType, cols: number, rows: number, data: Uint8Array): Weight {
    this.alive();
    const w = uploadWeight(this.device, this.caps.bindingLimit, name, type, cols, rows, data);
    this.weightBytes += w.chunks.reduce((n, c) => n + c.buffer.size, 0);
    return w;
  }

  allocWeightSlot(bytes: number): WeightSlot {
    this.alive();
    check(Number.isInteger(bytes) && bytes > 0, 'BAD_ARGUMENT', `a weight slot needs a positive size, got ${bytes}.`);
    const slot = new GPUWeightSlot(bytes, this.device, this.caps.bindingLimit);
    this.slots.push(slot);
    return slot;
  }

  slotWeight(slot: WeightSlot, offset: number, name: string, type: GGMLType, cols: number, rows: number): Weight {
    this.alive();
    const s = this.slot(slot);
    const before = s.deviceBytes;
    const w = s.weight(offset, name, type, cols, rows);
    this.weightBytes += s.deviceBytes - before;
    return w;
  }

  writeSlot(slot: WeightSlot, offset: number, data: Uint8Array): void {
    this.alive();
    this.rec.flush(); // ops recorded before must see the old bytes
    this.slot(slot).write(offset, data);
  }

  private slot(s: WeightSlot): GPUWeightSlot {
    check(s instanceof GPUWeightSlot && this.slots.includes(s), 'BAD_ARGUMENT', 'not a weight slot of this WebGPU backend');
    return s;
  }

  alloc(length: number): Activation {
    this.alive();
    const a = allocActivation(this.device, this.deviceLimit, length);
    this.activationBytes += a.buffer.size;
    return a;
  }

  free(a: Activation): void {
    this.rec.flush();
    this.activationBytes -= act(a).buffer.size;
    act(a).buffer.destroy();
  }

  createKVCache(spec: KVCacheSpec): void {
    this.alive();
    this.rec.flush();
    for (const l of this.kv) { l.k.destroy(); l.v.destroy(); }
    this.kvType = this.opts.kvType ?? spec.type;
    const slots = spec.slots ?? new Array<number>(spec.nLayers).fill(spec.nCtx);
    check(slots.length === spec.nLayers && slots.every((n) => Number.isInteger(n) && n > 0 && n <= spec.nCtx), 'BAD_ARGUMENT',
      `KV cache slots must give 1..${spec.nCtx} positions for each of ${spec.nLayers} layers.`);
    this.kv = allocKV(this.device, this.deviceLimit, slots, spec.kvDim, this.kvType);
    this.kvSpec = spec;
  }

  write(dst: Activation, src: Float32Array, dstOffset = 0): void {
    this.alive();
    check(dstOffset + src.length <= dst.length, 'BAD_ARGUMENT', `write of ${src.length} floats at ${dstOffset} overflows an activation of ${dst.length}.`);
    this.rec.flush(); // earlier recorded ops must see the old contents
    this.device.queue.writeBuffer(act(dst).buffer, dstOffset * 4, src.buffer, src.byteOffset, src.byteLength);
  }

  async read(src: Activation, offset: number, length: number): Promise<Float32Array> {
    this.alive();
    check(offset >= 0 && offset + length <= src.length, 'BAD_ARGUMENT', `read of ${length} floats at ${offset} overflows an activation of ${src.length}.`);
    if (length === 0) return new Float32Array(0);
    return new Float32Array(await this.readBytes(act(src).buffer, offset * 4, length * 4));
  }

  /** Submits what was recorded and waits for the GPU to finish it (a long prefill stops between batches). */
  async sync(): Promise<void> {
    this.alive();
    this.rec.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Submits all recorded work plus a copy of the range, and maps it back. */
  private async readBytes(buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
    this.readBackBytes += size;
    const rb = this.rec.readback(buffer, offset, size);
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    this.rec.flush();
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom) this.fail(`out of GPU memory (${oom.message})`);
    if (validation) this.fail(validation.message);
    try {
      await rb.mapAsync(GPUMapMode.READ);
    } catch (e) {
      // a lost device rejects pending maps: give its handler a moment so its explanation wins
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 50))]);
      this.fail(`reading results back failed: ${(e as Error).message}`);
    }
    this.alive();
    const out = rb.getMappedRange().slice(0);
    rb.destroy();
    return out;
  }

  embed(table: Weight, ids: Int32Array, out: Activation): void {
    this.alive();
    const w = wt(table);
    check(out.length >= ids.length * w.cols, 'BAD_ARGUMENT', `embed output of ${out.length} floats is too small for ${ids.length} rows of ${w.cols}.`);
    for (const id of ids) check(id >= 0 && id < w.rows, 'BAD_ARGUMENT', `Token id ${id} is outside the vocabulary (0..${w.rows - 1}).`);
    const idBuf = this.rec.temp(Uint32Array.from(ids));
    const pipe = this.pipes.weight('embed', w.type, { WG });
    const [gx, gy] = this.rec.grid(Math.ceil((ids.length * w.cols) / 4 / WG));
    for (const c of w.chunks) {
      const inChunk = ids.reduce((n, id) => n + (id >= c.row0 && id < c.row0 + c.rows ? 1 : 0), 0);
      if (!inChunk) continue;
      this.rec.dispatch(pipe, [c.buffer, idBuf, act(out).buffer], [ids.length, w.cols, c.row0, c.rows, w.rowBytes, gx, 0, 0], [gx, gy],
        { op: 'embed', wg: WG, weights: inChunk * w.rowBytes, activations: ids.length * 4 });
    }
  }

  rmsnorm(x: Activation, w: Weight, out: Activation, nTokens: number, eps: number): void {
    this.alive();
    const g = wt(w);
    check(g.chunks.length === 1 && x.length >= nTokens * g.cols && out.length >= nTokens * g.cols, 'BAD_ARGUMENT', `rmsnorm shapes do not fit '${g.name}'.`);
    const pipe = this.pipes.weight('rmsnorm', g.type, { WG, ...this.reduceOverrides }, this.reduceVariant);
    this.rec.dispatch(pipe, [g.chunks[0].buffer, act(x).buffer, act(out).buffer], [g.cols, { f32: eps }, 0, 0], [nTokens, 1],
      { op: 'rmsnorm', wg: WG, weights: g.rowBytes, activations: nTokens * g.cols * 4 });
  }

  matmul(w: Weight, x: Activation, out: Activation, nTokens: number): void {
    this.alive();
    const m = wt(w);
    check(x.length >= nTokens * m.cols && out.length >= nTokens * m.rows, 'BAD_ARGUMENT',
      `matmul of '${m.name}' (${m.rows}×${m.cols}) over ${nTokens} tokens does not fit its activations.`);
    const tok = nTokens === 1 ? 1 : 8; // 1: matrix-vector for decode; 8 tokens share each dequantized weight
    const tpr = this.threadsPerRow;
    const pipe = this.pipes.weight('matmul', m.type, { WG, TOK: tok, TPR: tpr, ...this.reduceOverrides }, this.variant);
    for (const c of m.chunks) {
      const [gx, gy] = this.rec.grid(Math.ceil(c.rows / (WG / tpr)));
      this.rec.dispatch(pipe, [c.buffer, act(x).buffer, act(out).buffer],
        [c.rows, m.cols, nTokens, c.row0, m.rows, gx, m.rowBytes, 0], [gx, gy, Math.ceil(nTokens / tok)],
        { op: nTokens === 1 ? 'matmul-vec' : 'matmul', wg: WG, weights: c.rows * m.rowBytes, activations: nTokens * m.cols * 4 });
    }
  }

  /** gate and up of one format and shape (so their chunks split alike): one kernel, matmul-glu.wgsl */
  matmulGlu(gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, kind: GluKind): boolean {
    this.alive();
    const g = wt(gate), u = wt(up);
    if (!this.fuse) return false;
    if (g.type !== u.type || g.rows !== u.rows || g.cols !== u.cols || g.chunks.length !== u.chunks.length
      || g.chunks.some((c, i) => c.row0 !== u.chunks[i].row0 || c.rows !== u.chunks[i].rows)) return false;
    check(x.length >= nTokens * g.cols && out.length >= nTokens * g.rows && x !== out, 'BAD_ARGUMENT',
      `matmulGlu of '${g.name}'/'${u.name}' (${g.rows}×${g.cols}) over ${nTokens} tokens does not fit its activations.`);
    const tok = nTokens === 1 ? 1 : 8; // as matmul
    const tpr = this.threadsPerRow;
    const pipe = this.pipes.weight('matmul-glu', g.type, { WG, TOK: tok, TPR: tpr, GELU: kind === 'gelu_tanh', ...this.reduceOverrides }, this.variant);
    g.chunks.forEach((c, i) => {
      const [gx, gy] = this.rec.grid(Math.ceil(c.rows / (WG / tpr)));
      this.rec.dispatch(pipe, [c.buffer, u.chunks[i].buffer, act(x).buffer, act(out).buffer],
        [c.rows, g.cols, nTokens, c.row0, g.rows, gx, g.rowBytes, 0], [gx, gy, Math.ceil(nTokens / tok)],
        { op: nTokens === 1 ? 'matmul-glu-vec' : 'matmul-glu', wg: WG, weights: 2 * c.rows * g.rowBytes, activations: nTokens * g.cols * 4 });
    });
    return true;
  }

  /**
   * wq, wk, wv of one width, each in one buffer (any formats: each has its reader): one kernel,
   * matmul-qkv.wgsl, its workgroups split among the three weights' rows.
   */
  matmulQKV(wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number): boolean {
    this.alive();
    const ws = [wt(wq), wt(wk), wt(wv)] as const;
    const outs = [q, k, v];
    if (!this.fuse || ws.some((w) => w.cols !== ws[0].cols || w.chunks.length !== 1)) return false;
    check(x.length >= nTokens * ws[0].cols && ws.every((w, i) => outs[i].length >= nTokens * w.rows && outs[i] !== x)
      && q !== k && k !== v && q !== v, 'BAD_ARGUMENT',
      `matmulQKV of '${ws[0].name}' (${ws.map((w) => w.rows).join('/')}×${ws[0].cols}) over ${nTokens} tokens does not fit its activations.`);
    const tok = nTokens === 1 ? 1 : 8; // as matmul
    const tpr = this.threadsPerRow;
    const groups = ws.map((w) => Math.ceil(w.rows / (WG / tpr)));
    const [gx, gy] = this.rec.grid(groups[0] + groups[1] + groups[2]);
    const pipe = this.pipes.multiWeight('matmul-qkv', [ws[0].type, ws[1].type, ws[2].type], { WG, TOK: tok, TPR: tpr, ...this.reduceOverrides }, this.variant);
    this.rec.dispatch(pipe, [...ws.map((w) => w.chunks[0].buffer), act(x).buffer, ...outs.map((o) => act(o).buffer)],
      [...ws.map((w) => w.rows), ws[0].cols, nTokens, gx, groups[0], groups[1], ...ws.map((w) => w.rowBytes), 0],
      [gx, gy, Math.ceil(nTokens / tok)],
      { op: nTokens === 1 ? 'matmul-qkv-vec' : 'matmul-qkv', wg: WG, weights: ws.reduce((n, w) => n + w.bytes, 0), activations: nTokens * ws[0].cols * 4 });
    return true;
  }

  addBias(x: Activation, bias: Weight, nTokens: number): void {
    this.alive();
    const b = wt(bias);
    const width = b.cols * b.rows;
    check(b.chunks.length === 1 && x.length >= nTokens * width, 'BAD_ARGUMENT', `addBias shapes do not fit '${b.name}'.`);
    const n4 = (nTokens * width) / 4;
    const [gx, gy] = this.rec.grid(Math.ceil(n4 / WG));
    this.rec.dispatch(this.pipes.weight('add-bias', b.type, { WG }), [b.chunks[0].buffer, act(x).buffer], [n4, width, gx, 0], [gx, gy],
      { op: 'add-bias', wg: WG, weights: b.rows * b.rowBytes, activations: n4 * 16 });
  }

  rope(x: Activation, nTokens: number, nHeads: number, headDim: number, pos0: number, p: RopeParams): void {
    this.alive();
    check(p.nRot % 2 === 0 && p.nRot <= headDim && x.length >= nTokens * nHeads * headDim, 'BAD_ARGUMENT', `rope shapes do not fit (nRot ${p.nRot}, headDim ${headDim}).`);
    const cs = this.ropeCS(pos0, nTokens, p);
    const total = nTokens * nHeads * (p.nRot / 2);
    const [gx, gy] = this.rec.grid(Math.ceil(total / WG));
    this.rec.dispatch(this.pipes.plain('rope', { WG }), [act(x).buffer, cs],
      [nTokens, nHeads, headDim, p.nRot, p.neox ? 1 : 0, gx, 0, 0], [gx, gy],
      { op: 'rope', wg: WG, activations: total * 8 + nTokens * p.nRot * 4 });
  }

  /** (cos, sin) of positions pos0.. for rope and storeKVRoped: q and k of every layer share one
   *  table per batch (the factors by identity, as the WASM backend does: the layer plan shares one
   *  array per kind of layer); a table lives until the next submit. */
  private ropeCS(pos0: number, nTokens: number, p: RopeParams): GPUBuffer {
    const key = `${pos0}:${nTokens}:${p.nRot}:${p.freqBase}:${p.attnFactor ?? 1}`;
    let c = this.ropeCache;
    if (!c || c.key !== key || c.factors !== p.freqFactors || c.submits !== this.rec.submits) {
      c = this.ropeCache = { key, factors: p.freqFactors, submits: this.rec.submits, buf: this.rec.temp(ropeTable(pos0, nTokens, p)) };
    }
    return c.buf;
  }

  private layer(l: number): KVLayer {
    const spec = this.kvSpec;
    check(spec && l >= 0 && l < spec.nLayers, 'BAD_ARGUMENT', `No KV cache for layer ${l}; call createKVCache first.`);
    return this.kv[l];
  }

  storeKV(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number): void {
    this.storeChecked(layer, k, v, pos0, nTokens);
  }

  storeKVRoped(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, headDim: number, p: RopeParams): boolean {
    if (!this.fuse) return false;
    check(p.nRot % 2 === 0 && p.nRot <= headDim && this.kvSpec !== null && this.kvSpec.kvDim % headDim === 0, 'BAD_ARGUMENT',
      `storeKVRoped shapes do not fit (nRot ${p.nRot}, headDim ${headDim}, KV width ${this.kvSpec?.kvDim}).`);
    this.storeChecked(layer, k, v, pos0, nTokens, { headDim, p });
    return true;
  }

  private storeChecked(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, rope?: StoreRope): void {
    this.alive();
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
    const [gx, gy] = this.rec.grid(Math.ceil(n / WG));
    const cs = rope ? this.ropeCS(pos0, nTokens, rope.p) : (this.noRopeTable ??= this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }));
    this.rec.dispatch(this.pipes.plain('store-kv', { WG, KV_TYPE: KV_TYPES.indexOf(this.kvType), ROPE: !!rope }),
      [k, v, L.k, L.v, cs], [nTokens, kvDim, pos0, gx, L.slots, rope?.headDim ?? 0, rope?.p.nRot ?? 0, rope?.p.neox ? 1 : 0], [gx, gy],
      { op: rope ? 'store-kv-rope' : 'store-kv', wg: WG, activations: 2 * nTokens * kvDim * 4 + (rope ? nTokens * rope.p.nRot * 4 : 0) });
  }

  shiftKV(layer: number, keep: number, discard: number, end: number, p: KVShiftParams): void {
    this.alive();
    const L = this.layer(layer);
    const { kvDim, nCtx } = this.kvSpec!;
    check([keep, discard, end].every(Number.isInteger) && keep >= 0 && discard > 0 && keep + discard <= end && end <= nCtx, 'BAD_ARGUMENT',
      `shiftKV: cannot drop ${discard} positions after ${keep} of ${end}.`);
    check(p.nHeadKV * p.headDim === kvDim, 'BAD_ARGUMENT', `shiftKV: ${p.nHeadKV} KV heads × ${p.headDim} do not match the cache width ${kvDim}.`);
    const [lo, hi] = shiftedPositions(L.slots, keep, discard, end);
    if (hi <= lo) return;
    const rows = hi - lo;
    const [gx, gy] = this.rec.grid(Math.ceil((rows * p.nHeadKV) / WG));
    const cs = this.rec.temp(p.rope ? ropeTable(-discard, 1, { ...p.rope, attnFactor: 1 }) : new Float32Array(4));
    const kvType = KV_TYPES.indexOf(this.kvType);
    // gather the moving rows as f32 (keys turned), then store-kv writes them at their new positions
    const out = [L.k, L.v].map((buf, i) => {
      const rowsF32 = this.rec.scratch(rows * kvDim * 4);
      this.rec.dispatch(this.pipes.plain('kv-shift', { WG, KV_TYPE: kvType, ROTATE: i === 0 && !!p.rope }), [buf, rowsF32, cs],
        [lo, hi, discard, L.slots, kvDim, p.headDim, p.rope?.nRot ?? 0, p.rope?.neox ? 1 : 0, gx, 0, 0, 0], [gx, gy],
        { op: 'kv-shift', wg: WG, kv: rows * kvRowBytes(this.kvType, kvDim) });
      return rowsF32;
    });
    this.storeRows(L, out[0], out[1], lo, rows);
  }

  attention(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, a: AttentionParams): void {
    this.alive();
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
    const fields = [nHead, nHeadKV, headDim, pos0, kvDim, { f32: a.scale }, nTokens, window, { f32: a.softcap ?? 0 }, L.slots, 0, 0];
    const bufs = [act(q).buffer, L.k, L.v, act(out).buffer];
    const overrides = { WG, KV_TYPE: KV_TYPES.indexOf(this.kvType), ...this.reduceOverrides };
    // keys (and values) the batch attends to: all up to its last position, or its windows' union
    const keys = Math.min(pos0 + nTokens, window > 0 ? window + nTokens - 1 : Infinity, L.slots);
    const cost = { wg: WG, kv: 2 * keys * kvRowBytes(this.kvType, kvDim), activations: nTokens * nHead * headDim * 4 };
    if (this.threadsPerRow === 1) {
      this.rec.dispatch(this.pipes.plain('attention', overrides, 'main_serial', this.reduceVariant), bufs, fields, [Math.ceil((nHead * nTokens) / WG), 1],
        { op: 'attention-serial', ...cost });
    } else {
      this.rec.dispatch(this.pipes.plain('attention', overrides, 'main', this.reduceVariant), bufs, fields, [nHead, nTokens], { op: 'attention', ...cost });
    }
  }

  glu(gate: Activation, up: Activation, out: Activation, n: number, kind: GluKind): void {
    this.alive();
    check(gate !== up, 'BAD_ARGUMENT', 'glu needs distinct gate and up buffers.');
    if (out !== gate && out !== up) this.copy(up, 0, out, 0, n);
    const gateInPlace = out === gate;
    const [gx, gy] = this.rec.grid(Math.ceil(n / WG));
    this.rec.dispatch(this.pipes.plain('glu', { WG, GATE_IN_PLACE: gateInPlace, GELU: kind === 'gelu_tanh' }),
      [act(out).buffer, act(gateInPlace ? up : gate).buffer], [n, gx, 0, 0], [gx, gy], { op: 'glu', wg: WG, activations: 2 * n * 4 });
  }

  scale(x: Activation, n: number, factor: number): void {
    this.scaleOp(x, n, factor, false);
  }

  softcap(x: Activation, n: number, cap: number): void {
    check(cap > 0, 'BAD_ARGUMENT', `softcap needs a positive cap (got ${cap}).`);
    this.scaleOp(x, n, cap, true);
  }

  private scaleOp(x: Activation, n: number, factor: number, softcap: boolean): void {
    this.alive();
    check(n <= x.length, 'BAD_ARGUMENT', `scale of ${n} floats overflows an activation of ${x.length}.`);
    const [gx, gy] = this.rec.grid(Math.ceil(n / WG));
    this.rec.dispatch(this.pipes.plain('scale', { WG, SOFTCAP: softcap }), [act(x).buffer], [n, gx, { f32: factor }, 0], [gx, gy],
      { op: softcap ? 'softcap' : 'scale', wg: WG, activations: n * 4 });
  }

  add(dst: Activation, src: Activation, n: number): void {
    this.alive();
    check(dst !== src, 'BAD_ARGUMENT', 'add needs distinct buffers.');
    const [gx, gy] = this.rec.grid(Math.ceil(n / WG));
    this.rec.dispatch(this.pipes.plain('add', { WG }), [act(dst).buffer, act(src).buffer], [n, gx, 0, 0], [gx, gy], { op: 'add', wg: WG, activations: 2 * n * 4 });
  }

  copy(src: Activation, srcOffset: number, dst: Activation, dstOffset: number, n: number): void {
    this.alive();
    check(src !== dst, 'BAD_ARGUMENT', 'copy needs distinct buffers.');
    const [gx, gy] = this.rec.grid(Math.ceil(n / WG));
    this.rec.dispatch(this.pipes.plain('copy', { WG }), [act(src).buffer, act(dst).buffer], [n, srcOffset, dstOffset, gx], [gx, gy], { op: 'copy', wg: WG, activations: n * 4 });
  }

  softmax(x: Activation, nRows: number, width: number): void {
    this.alive();
    this.rec.dispatch(this.pipes.plain('softmax', { WG, ...this.reduceOverrides }, 'main', this.reduceVariant), [act(x).buffer], [width, 0, 0, 0], [nRows, 1], { op: 'softmax', wg: WG, activations: nRows * width * 4 });
  }

  async topK(logits: Activation, k: number, n = logits.length): Promise<TopK> {
    this.alive();
    check(Number.isInteger(k) && k >= 1 && k <= n && n <= logits.length, 'BAD_ARGUMENT', `top-k needs 1 ≤ k ≤ n (k ${k}, n ${n}).`);
    const levels = topKLevels(n, k);
    if (!levels.length) return topKOnHost(await this.read(logits, 0, n), k);
    const pairBytes = (m: number) => Math.max(64, 8 * m);
    this.topKBufs = [0, 1, 2].map((i) => {
      const b = this.topKBufs[i] as GPUBuffer | undefined;
      const want = pairBytes(i === 0 ? k : (levels[1] ?? k));
      if (b && b.size >= want) return b;
      b?.destroy();
      return this.device.createBuffer({ label: `top-k ${i}`, size: want, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    });
    // levels[0] = n values → ceil(n / chunk) · k pairs → … → k pairs in topKBufs[0]
    // as attention: with threadsPerRow 1 (SwiftShader) one invocation per chunk, no barriers
    const serial = this.threadsPerRow === 1 && k <= TOPK_SERIAL_MAX_K;
    const pipe = this.pipes.plain('top-k', { WG: TOPK_WG }, serial ? 'main_serial' : 'main');
    let src = act(logits).buffer;
    for (let l = 0; l < levels.length; l++) {
      const m = levels[l];
      const chunks = Math.ceil(m / TOPK_CHUNK);
      const dst = chunks === 1 ? this.topKBufs[0] : this.topKBufs[1 + (l % 2)];
      this.rec.dispatch(pipe, [src, dst], [m, k, 0x7f800000, l === 0 ? 0 : 1], [serial ? Math.ceil(chunks / TOPK_WG) : chunks, 1],
        { op: serial ? 'top-k-serial' : 'top-k', wg: TOPK_WG, activations: m * (l === 0 ? 4 : 8) });
      src = dst;
    }
    const words = await this.readBytes(this.topKBufs[0], 0, 8 * k);
    const u = new Uint32Array(words);
    const f = new Float32Array(words);
    return { ids: Array.from({ length: k }, (_, i) => u[2 * i]), values: Array.from({ length: k }, (_, i) => f[2 * i + 1]) };
  }

  async argmax(logits: Activation, n = logits.length): Promise<number> {
    return (await this.topK(logits, 1, n)).ids[0];
  }

  onLost(cb: (e: EngineError) => void): void {
    this.lostCallbacks.push(cb);
  }

  stats(): WebGPUStats {
    const b = this.rec.bytes;
    return { dispatches: this.rec.dispatches, submits: this.rec.submits, pipelines: this.pipes.count,
      weightBytes: this.weightBytes, weightBytesRead: b.weights, kvBytesRead: b.kv, activationBytesRead: b.activations,
      deviceBytes: this.memoryBytes(), readBackBytes: this.readBackBytes };
  }

  countPerOp(on: boolean): void {
    this.rec.perOp = on ? (this.rec.perOp ?? new Map()) : null;
  }

  opCounts(): Record<string, OpCounts> {
    return Object.fromEntries([...(this.rec.perOp ?? [])].map(([op, c]) => [op, { ...c }]));
  }

  memoryBytes(): number {
    return this.weightBytes + this.activationBytes + this.kv.reduce((s, l) => s + l.k.size + l.v.size, 0);
  }

  forceDeviceLoss(): void {
    this.device.destroy();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device.destroy();
  }
}

export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  const tpr = opts.threadsPerRow;
  check(tpr === undefined || (tpr >= 1 && tpr <= WG && (tpr & (tpr - 1)) === 0), 'BAD_ARGUMENT',
    `threadsPerRow must be a power of two from 1 to ${WG} (got ${tpr}).`);
  const { device, caps } = await requestDevice(opts);
  try {
    return new WebGPUBackendImpl(device, caps, opts);
  } catch (e) {
    device.destroy();
    throw e;
  }
}
