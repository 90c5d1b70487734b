// The Backend op set on WebGPU: weights stay in their GGUF blocks on the device, every op is a
// compute dispatch recorded into one command encoder, and `read`/`topK` submit and map. Device
// loss and GPU errors become EngineError('BACKEND') so the engine can fall back to WASM.
// This file holds the lifecycle, buffers and readback; the ops live in weight-ops.ts, kv-ops.ts,
// elementwise-ops.ts and top-k.ts, over the shared OpContext (op-context.ts).
import type { Activation, AttentionParams, Backend, GluKind, InputNorm, KVBias, KVCacheSpec, KVShiftParams, RopeParams, Weight, WeightSlot } from '../backend.ts';
import { GPUWeightSlot } from './weight-slots.ts';
import type { GGMLType } from '../../quant/types.ts';
import { check } from '../../shared/assert.ts';
import { EngineError } from '../../shared/errors.ts';
import { allocActivation, uploadWeight } from './buffers.ts';
import type { KVType } from '../kv-layout.ts';
import { requestDevice, type DeviceOptions, type GPUCaps } from './device.ts';
import { Pipelines } from './pipelines.ts';
import { Recorder, type OpCounts } from './recorder.ts';
import { act, WG, type OpContext } from './op-context.ts';
import * as weightOps from './weight-ops.ts';
import * as elementwise from './elementwise-ops.ts';
import { KVCacheOps } from './kv-ops.ts';
import { TopKOps, type TopK } from './top-k.ts';

export { TOPK_CHUNK, TOPK_WG, topKLevels, type TopK } from './top-k.ts';


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
  /** the fused kernels (matmulGlu, matmulQKV, matmulAdd, storeKVRoped, attentionRoped); false declines them, so callers run the
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

export interface WebGPUBackend extends Backend {
  readonly caps: GPUCaps;
  /** whether the reducing kernels (matmul rows, rmsnorm, softmax, attention) run over subgroups */
  readonly subgroups: boolean;
  /** index of the largest of the first n values (lowest index on ties); reads back 8 bytes */
  argmax(logits: Activation, n?: number): Promise<number>;
  /** the k largest of the first n values, by value descending then index ascending */
  topK(logits: Activation, k: number, n?: number): Promise<TopK>;
  /** fused gate/up matmul + GLU (matmul-glu.wgsl), with its input's RMSNorm where given (x-rmsnorm.wgsl);
   *  false for a pair of two formats or shapes */
  matmulGlu(gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, act: GluKind, norm?: InputNorm): boolean;
  /** fused q/k/v matmuls (matmul-qkv.wgsl), with the input's RMSNorm where given; false for weights of other
   *  widths or split into chunks */
  matmulQKV(wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number,
    norm?: InputNorm): boolean;
  /** out += w · x in the matmul's store (matmul.wgsl ADD); false only with fuse: false */
  matmulAdd(w: Weight, x: Activation, out: Activation, nTokens: number): boolean;
  /** rope of k inside the KV store (store-kv.wgsl ROPE) */
  storeKVRoped(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, headDim: number, p: RopeParams, bias?: KVBias): boolean;
  attentionRoped(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, a: AttentionParams, p: RopeParams,
    bias?: Weight): boolean;
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

class WebGPUBackendImpl implements WebGPUBackend {
  readonly name = 'webgpu' as const;
  readonly threads = 1;
  private readonly rec: Recorder;
  private readonly pipes: Pipelines;
  private failure: EngineError | null = null;
  private disposed = false;
  private readonly lostCallbacks: ((e: EngineError) => void)[] = [];
  private weightBytes = 0;
  private readonly slots: GPUWeightSlot[] = [];
  private readBackBytes = 0;
  private activationBytes = 0;
  readonly subgroups: boolean;
  /** what the op files see of this backend */
  private readonly ctx: OpContext;
  private readonly kv: KVCacheOps;
  private readonly topKOps: TopKOps;

  constructor(private readonly device: GPUDevice, readonly caps: GPUCaps, private readonly opts: WebGPUBackendOptions) {
    // matmul threads per row; 1 also selects the serial attention. SwiftShader runs barrier-free
    // kernels far faster, GPUs want several lanes per row.
    const threadsPerRow = opts.threadsPerRow ?? (caps.adapter.includes('swiftshader') ? 1 : 16);
    check(!opts.f16 || caps.shaderF16, 'BACKEND', 'f16 kernels were requested but this GPU adapter has no shader-f16.');
    // the subgroup snippets step in aligned runs of the smallest subgroup: a power of two
    const sg = caps.subgroups && caps.subgroupSizes && (caps.subgroupSizes.min & (caps.subgroupSizes.min - 1)) === 0 ? caps.subgroupSizes : null;
    check(!opts.subgroups || sg, 'BACKEND', 'subgroup kernels were requested but this GPU adapter has no subgroups (or does not report their sizes).');
    this.subgroups = !!sg && (opts.subgroups ?? true);
    this.rec = new Recorder(device, caps.maxComputeWorkgroupsPerDimension);
    this.pipes = new Pipelines(device, (msg) => this.fail(`shader compilation failed: ${msg}`));
    this.ctx = {
      device, rec: this.rec, pipes: this.pipes, threadsPerRow,
      variant: { f16: opts.f16 ?? caps.shaderF16, subgroups: this.subgroups },
      reduceVariant: { subgroups: this.subgroups },
      reduceOverrides: this.subgroups && sg ? { SG: sg.min, SG_EXACT: sg.min === sg.max } : {},
      fuse: opts.fuse ?? true,
      alive: () => this.alive(),
    };
    this.kv = new KVCacheOps(this.ctx);
    this.topKOps = new TopKOps(this.ctx, (src, offset, length) => this.read(src, offset, length),
      (buffer, offset, size) => this.readBytes(buffer, offset, size));

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
    this.kv.create(spec, this.opts.kvType, this.deviceLimit);
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

  // the ops: see weight-ops.ts, kv-ops.ts, elementwise-ops.ts, top-k.ts
  embed(table: Weight, ids: Int32Array, out: Activation): void { weightOps.embed(this.ctx, table, ids, out); }
  rmsnorm(x: Activation, w: Weight, out: Activation, nTokens: number, eps: number): void { weightOps.rmsnorm(this.ctx, x, w, out, nTokens, eps); }
  matmul(w: Weight, x: Activation, out: Activation, nTokens: number): void { weightOps.matmul(this.ctx, w, x, out, nTokens); }
  matmulGlu(gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, kind: GluKind, norm?: InputNorm): boolean {
    return weightOps.matmulGlu(this.ctx, gate, up, x, out, nTokens, kind, norm);
  }
  matmulQKV(wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number,
    norm?: InputNorm): boolean {
    return weightOps.matmulQKV(this.ctx, wq, wk, wv, x, q, k, v, nTokens, norm);
  }
  matmulAdd(w: Weight, x: Activation, out: Activation, nTokens: number): boolean {
    if (!this.ctx.fuse) return false;
    weightOps.matmul(this.ctx, w, x, out, nTokens, true);
    return true;
  }
  addBias(x: Activation, bias: Weight, nTokens: number): void { weightOps.addBias(this.ctx, x, bias, nTokens); }
  rope(x: Activation, nTokens: number, nHeads: number, headDim: number, pos0: number, p: RopeParams): void { this.kv.rope(x, nTokens, nHeads, headDim, pos0, p); }
  storeKV(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number): void { this.kv.storeKV(layer, k, v, pos0, nTokens); }
  storeKVRoped(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number, headDim: number, p: RopeParams, bias?: KVBias): boolean {
    return this.kv.storeKVRoped(layer, k, v, pos0, nTokens, headDim, p, bias);
  }
  shiftKV(layer: number, keep: number, discard: number, end: number, p: KVShiftParams): void { this.kv.shiftKV(layer, keep, discard, end, p); }
  attention(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, a: AttentionParams): void {
    this.kv.attention(layer, q, out, pos0, nTokens, a);
  }

  attentionRoped(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, a: AttentionParams, p: RopeParams,
    bias?: Weight): boolean {
    return this.kv.attentionRoped(layer, q, out, pos0, nTokens, a, p, bias);
  }
  glu(gate: Activation, up: Activation, out: Activation, n: number, kind: GluKind): void { elementwise.glu(this.ctx, gate, up, out, n, kind); }
  scale(x: Activation, n: number, factor: number): void { elementwise.scale(this.ctx, x, n, factor); }
  softcap(x: Activation, n: number, cap: number): void { elementwise.softcap(this.ctx, x, n, cap); }
  add(dst: Activation, src: Activation, n: number): void { elementwise.add(this.ctx, dst, src, n); }
  copy(src: Activation, srcOffset: number, dst: Activation, dstOffset: number, n: number): void { elementwise.copy(this.ctx, src, srcOffset, dst, dstOffset, n); }
  softmax(x: Activation, nRows: number, width: number): void { elementwise.softmax(this.ctx, x, nRows, width); }
  topK(logits: Activation, k: number, n = logits.length): Promise<TopK> { return this.topKOps.topK(logits, k, n); }

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
    return this.weightBytes + this.activationBytes + this.kv.bytes();
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
