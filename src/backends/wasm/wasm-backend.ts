// The CPU backend: AssemblyScript SIMD kernels on one WebAssembly.Memory, optionally split across
// a pool of workers sharing that memory. Weights stay in their GGUF block format. matmul rounds
// the activations to 8-bit blocks once (as llama.cpp does) and runs integer dot products on the
// weight blocks where the format has an integer kernel; other formats (and embed) dequantize
// block runs into per-thread scratch on the fly.
import { check } from '../../shared/assert.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';
import { getTraits } from '../../quant/traits.ts';
import { GGMLType, ggmlTypeName } from '../../quant/types.ts';
import type { Activation, AttentionParams, Backend, GluKind, InputNorm, KVCacheSpec, KVShiftParams, RopeParams, Weight, WeightSlot } from '../backend.ts';
import { kvRowBytes, KV_TYPES, type KVType } from '../kv-layout.ts';
import { WASM32_MAX_BYTES, WasmHeap, createMemory } from './heap.ts';
import { defaultPlatform, type WasmPlatform } from './platform.ts';
import { moveRows } from './kv-shift.ts';
import { KernelPool, type WorkerHandle } from './thread-pool.ts';
import { CONTROL_BYTES } from './worker-loop.js';
import { WasmActivation, WasmWeight, WasmWeightSlot, type Fn, type KVCache } from './wasm-objects.ts';
import { int8MaxTokens, rowPrepBytes, scratchStride } from './sizing.ts';

export interface WasmBackendOptions {
  /** kernel threads including the caller (default: logical CPUs, at most 8); 1 = no workers */
  threads?: number;
  /** cap on the backend's linear memory (always ≤ 4 GiB) */
  maxMemoryBytes?: number;
  /** KV cache element type; overrides KVCacheSpec.type when set */
  kvType?: KVType;
  /** ops with less work than this (≈ multiply-adds) stay on the calling thread; default 65536 */
  parallelThreshold?: number;
  /** how to load the .wasm and start workers (default: detected Node or browser) */
  platform?: WasmPlatform;
  /** relaxed-SIMD kernels: default when the engine supports them; false = plain build; true = required */
  relaxedSimd?: boolean;
  /** 8-bit activations + integer dot products where the format has them (default true);
   *  false keeps every matmul on the f32 path */
  int8Matmul?: boolean;
  /** the fused ops (matmulGlu, matmulQKV; default true); false declines them, so callers run the
   *  separate matmuls (for measuring what the fusions save) */
  fuse?: boolean;
}

export type WasmBackend = Backend & {
  memoryBytes(): number;
  /** the allocator's first byte (past the module's static data) and the highest end it reached */
  heapExtent(): { base: number; peakTop: number };
  /** which kernel build runs: relaxed SIMD or the plain-SIMD fallback */
  readonly simd: 'relaxed' | 'plain';
};

function sharedMemoryUsable(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object'
    && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const platform = opts.platform ?? await defaultPlatform();
  const wanted = Math.max(1, Math.floor(opts.threads ?? Math.min(platform.hardwareThreads(), 8)));
  const threaded = wanted > 1 && sharedMemoryUsable();
  const limitBytes = Math.min(opts.maxMemoryBytes ?? WASM32_MAX_BYTES, WASM32_MAX_BYTES);
  const relaxed = opts.relaxedSimd !== false && platform.relaxedSimd();
  if (opts.relaxedSimd && !relaxed) throw new EngineError('BACKEND', 'this WebAssembly engine has no relaxed SIMD');
  const module = await platform.loadModule(threaded, relaxed);
  const { memory, limit } = createMemory(threaded, limitBytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  const exports = instance.exports as Record<string, unknown>;
  let workers: WorkerHandle[] = [];
  let control: SharedArrayBuffer | undefined;
  if (threaded) {
    control = new SharedArrayBuffer(CONTROL_BYTES);
    const started = Array.from({ length: wanted - 1 }, (_, i) =>
      platform.spawnWorker({ module, memory, control: control!, tid: i + 1, names }));
    const results = await Promise.allSettled(started);
    workers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      for (const w of workers) w.terminate();
      throw (failed as PromiseRejectedResult).reason;
    }
  }
  const pool = new KernelPool(names.map((n) => exports[n] as Fn), workers, control);
  const heap = new WasmHeap(memory, (exports.heapBase as Fn)(), limit);
  return new WasmBackendImpl(exports, names, heap, pool, { ...opts, relaxedSimd: relaxed });
}

/** Most tokens of a fused gate/up batch: runs of 64 rows of up's products must fit the CHUNK-float scratch. */
const GLU_MAX_TOKENS = 64;

class WasmBackendImpl implements WasmBackend {
  readonly name = 'wasm' as const;
  readonly threads: number;
  readonly simd: 'relaxed' | 'plain';
  private readonly k: Record<'rmsnorm' | 'add' | 'addBias' | 'glu' | 'scale' | 'softcap' | 'rope' | 'attention' | 'quantizeActs', number>;
  private readonly q8RowBytes: Fn;
  /** bytes of the kernels' CHUNK floats, where every thread's scratch starts */
  private readonly chunkBytes: number;
  private readonly int8: boolean;
  private readonly fuse: boolean;
  /** activations rounded to 8 bits for the integer matmuls (grown on demand); key names the
   *  activation and shape they hold, '' once any activation may have changed */
  private q8 = { ptr: 0, bytes: 0, key: '' };
  private readonly storeRows: Fn;
  /** fused kernels (matmulqGlu_<id>, matmulqQKV_<id>) by name: their export index, -1 for none */
  private readonly fusedKernels = new Map<string, number>();
  private kv: KVCache | undefined;
  private scratch = { ptr: 0, stride: 0 };
  private ropeTable = { ptr: 0, cap: 0, key: '', factors: undefined as Float32Array | undefined };
  private disposed = false;
  private readonly kvType: KVType | undefined;
  /** below this much work an op stays on the calling thread: waking workers would cost more */
  private readonly parWork: number;

  constructor(private readonly exports: Record<string, unknown>, private readonly names: string[],
    private readonly heap: WasmHeap, private readonly pool: KernelPool, opts: WasmBackendOptions) {
    this.threads = pool.threads;
    this.simd = opts.relaxedSimd ? 'relaxed' : 'plain';
    this.int8 = opts.int8Matmul ?? true;
    this.fuse = opts.fuse ?? true;
    this.q8RowBytes = exports.q8RowBytes as Fn;
    this.kvType = opts.kvType;
    this.parWork = opts.parallelThreshold ?? 1 << 16;
    const idx = (n: string): number => names.indexOf(n);
    this.k = { rmsnorm: idx('rmsnorm'), add: idx('add'), addBias: idx('addBias'), glu: idx('glu'), scale: idx('scale'), softcap: idx('softcap'),
      rope: idx('rope'), attention: idx('attention'), quantizeActs: idx('quantizeActs') };
    this.storeRows = exports.storeRows as Fn;
    this.chunkBytes = (exports.CHUNK as WebAssembly.Global).value * 4;
    this.ensureScratch(this.chunkBytes);
  }

  memoryBytes(): number {
    return this.heap.bytes();
  }

  heapExtent(): { base: number; peakTop: number } {
    return { base: this.heap.base, peakTop: this.heap.peakTop() };
  }

  uploadWeight(name: string, type: GGMLType, cols: number, rows: number, data: Uint8Array): Weight {
    const rowBytes = this.rowBytes(name, type, cols, rows);
    check(data.length === rows * rowBytes, 'BAD_SHAPE',
      () => `tensor '${name}': ${rows}×${cols} ${ggmlTypeName(type)} needs ${rows * rowBytes} bytes, got ${data.length}`);
    const ptr = this.heap.alloc(data.length);
    this.heap.u8().set(data, ptr);
    return this.makeWeight(name, type, cols, rows, ptr);
  }

  allocWeight(name: string, type: GGMLType, cols: number, rows: number): { weight: Weight; bytes(): Uint8Array } {
    const length = rows * this.rowBytes(name, type, cols, rows);
    const ptr = this.heap.alloc(length);
    // a fresh view per call: growing the heap replaces a non-shared memory's buffer
    return { weight: this.makeWeight(name, type, cols, rows, ptr), bytes: () => this.heap.u8().subarray(ptr, ptr + length) };
  }

  allocWeightSlot(bytes: number): WeightSlot {
    check(Number.isInteger(bytes) && bytes > 0, 'BAD_ARGUMENT', `a weight slot needs a positive size, got ${bytes}`);
    return new WasmWeightSlot(bytes, this.heap.alloc(bytes));
  }

  slotWeight(slot: WeightSlot, offset: number, name: string, type: GGMLType, cols: number, rows: number): Weight {
    const s = this.slot(slot);
    const bytes = rows * this.rowBytes(name, type, cols, rows);
    check(Number.isInteger(offset) && offset >= 0 && offset + bytes <= s.bytes, 'BAD_ARGUMENT',
      () => `tensor '${name}' (${bytes} bytes at ${offset}) overflows a weight slot of ${s.bytes}`);
    return this.makeWeight(name, type, cols, rows, s.ptr + offset, s);
  }

  writeSlot(slot: WeightSlot, offset: number, data: Uint8Array): void {
    const s = this.slot(slot);
    check(offset >= 0 && offset + data.length <= s.bytes, 'BAD_ARGUMENT',
      () => `${data.length} bytes at ${offset} overflow a weight slot of ${s.bytes}`);
    this.heap.u8().set(data, s.ptr + offset);
  }

  slotView(slot: WeightSlot): Uint8Array | undefined {
    const s = this.slot(slot);
    // A shared memory's buffer is never detached by growth; a plain one's is, so a reader checks the
    // view is still attached after its read (V8 grows wasm memory in place, so no bytes go astray).
    return new Uint8Array(this.heap.memory.buffer, s.ptr, s.bytes);
  }

  /** Bytes of one row of a weight, after checking that the format has a kernel and the shape fits its blocks. */
  private rowBytes(name: string, type: GGMLType, cols: number, rows: number): number {
    const t = getTraits(type, name);
    if (this.names.indexOf(`matmul_${t.id}`) < 0) {
      throw new UnsupportedError('UNSUPPORTED_TYPE', `tensor '${name}' uses ${ggmlTypeName(type)}, which the WASM backend has no kernel for`);
    }
    check(Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols % t.blockSize === 0,
      'BAD_SHAPE', () => `tensor '${name}': ${rows}×${cols} is not a whole number of ${ggmlTypeName(type)} blocks (${t.blockSize}) per row`);
    return (cols / t.blockSize) * t.typeSize;
  }

  private makeWeight(name: string, type: GGMLType, cols: number, rows: number, ptr: number, slot?: WasmWeightSlot): WasmWeight {
    const t = getTraits(type, name);
    const blocksPerRow = cols / t.blockSize;
    const matmulq = this.int8 ? this.names.indexOf(`matmulq_${t.id}`) : -1;
    const flag = (g: string): number => matmulq >= 0 ? (this.exports[`${g}_${t.id}`] as WebAssembly.Global).value as number : 0;
    return new WasmWeight(name, type, cols, rows, ptr, blocksPerRow * t.typeSize, blocksPerRow,
      this.names.indexOf(`matmul_${t.id}`), this.exports[`deq_${t.id}`] as Fn,
      matmulq, flag('QB'), int8MaxTokens(flag('QT') !== 0), flag('QP') !== 0 ? rowPrepBytes(cols) : 0, slot);
  }

  alloc(length: number): Activation {
    check(Number.isInteger(length) && length > 0, 'BAD_ARGUMENT', `activation length must be a positive integer, got ${length}`);
    return new WasmActivation(length, this.heap.alloc(length * 4));
  }

  free(a: Activation): void {
    this.changed();
    const x = this.act(a);
    x.freed = true;
    this.heap.release(x.ptr, x.length * 4);
  }

  createKVCache(spec: KVCacheSpec): void {
    const { nLayers, nCtx, kvDim } = spec;
    check([nLayers, nCtx, kvDim].every((n) => Number.isInteger(n) && n > 0), 'BAD_ARGUMENT',
      `bad KV cache shape: ${nLayers} layers × ${nCtx} positions × ${kvDim}`);
    const slots = spec.slots ?? new Array<number>(nLayers).fill(nCtx);
    check(slots.length === nLayers && slots.every((n) => Number.isInteger(n) && n > 0 && n <= nCtx), 'BAD_ARGUMENT',
      `KV cache slots must give 1..${nCtx} positions for each of ${nLayers} layers`);
    if (this.kv) {
      this.heap.release(this.kv.k, this.kv.bytes);
      this.heap.release(this.kv.v, this.kv.bytes);
      this.kv = undefined;
    }
    const type = this.kvType ?? spec.type;
    const rowBytes = kvRowBytes(type, kvDim);
    // one block per K and V; layer l starts at the sum of the earlier layers' rings
    const layerOff: number[] = [];
    let rows = 0;
    for (const n of slots) { layerOff.push(rows * rowBytes); rows += n; }
    const bytes = rows * rowBytes;
    const k = this.heap.alloc(bytes);
    let v: number;
    try {
      v = this.heap.alloc(bytes);
    } catch (e) {
      this.heap.release(k, bytes);
      throw e;
    }
    this.kv = { spec, type, typeCode: KV_TYPES.indexOf(type), rowBytes, k, v, bytes, slots, layerOff };
    this.ensureScratch(nCtx * 16); // attention scores, four tokens at a time
  }

  write(dst: Activation, src: Float32Array, dstOffset = 0): void {
    this.changed();
    const d = this.act(dst);
    check(dstOffset >= 0 && dstOffset + src.length <= d.length, 'BAD_ARGUMENT',
      () => `write of ${src.length} floats at ${dstOffset} overflows an activation of ${d.length}`);
    this.heap.f32().set(src, d.ptr / 4 + dstOffset);
  }

  read(src: Activation, offset: number, length: number): Promise<Float32Array> {
    const s = this.act(src);
    check(offset >= 0 && length >= 0 && offset + length <= s.length, 'BAD_ARGUMENT',
      () => `read of ${length} floats at ${offset} overflows an activation of ${s.length}`);
    const start = s.ptr / 4 + offset;
    return Promise.resolve(this.heap.f32().slice(start, start + length));
  }

  embed(table: Weight, ids: Int32Array, out: Activation): void {
    this.changed();
    const w = this.weight(table);
    const o = this.act(out);
    this.need(o, ids.length * w.cols, 'embed output');
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t];
      check(Number.isInteger(id) && id >= 0 && id < w.rows, 'BAD_ARGUMENT', () => `token id ${id} is outside the vocabulary (0..${w.rows - 1})`);
      w.deq(w.ptr + id * w.rowBytes, o.ptr + t * w.cols * 4, w.blocksPerRow);
    }
  }

  rmsnorm(x: Activation, w: Weight, out: Activation, nTokens: number, eps: number): void {
    this.changed();
    const width = w.cols;
    const xa = this.need(this.act(x), nTokens * width, 'rmsnorm input');
    const oa = this.need(this.act(out), nTokens * width, 'rmsnorm output');
    this.run(this.k.rmsnorm, [xa.ptr, this.vector(w), oa.ptr, width, eps], nTokens, 1, nTokens * width);
  }

  matmul(w: Weight, x: Activation, out: Activation, nTokens: number): void {
    const m = this.weight(w);
    const xa = this.need(this.act(x), nTokens * m.cols, `matmul input (${m.name})`);
    const oa = this.need(this.act(out), nTokens * m.rows, `matmul output (${m.name})`);
    check(xa !== oa, 'BAD_ARGUMENT', 'matmul cannot write into its input');
    const work = m.rows * m.cols * nTokens;
    // the output may be the activation whose rounded copy is kept
    if (this.q8.key.startsWith(`${oa.ptr}:`)) this.changed();
    if (m.matmulq < 0 || nTokens > m.int8MaxTokens) {
      this.run(m.matmul, [m.ptr, xa.ptr, oa.ptr, m.rows, m.cols, nTokens], m.rows, 4, work);
      return;
    }
    const xq = this.quantizeActs(xa, m.cols, m.qb, nTokens);
    this.prepScratch(m, nTokens);
    this.run(m.matmulq, [m.ptr, xq, oa.ptr, m.rows, m.cols, nTokens], m.rows, 4, work);
  }

  /**
   * gate and up of one integer format as one op (matmulqGlu_<id>): one fork for both matmuls and
   * the glu. Other pairs, and batches past the integer path or GLU_MAX_TOKENS, go through
   * gatedMatmul's two matmuls and glu. Never with a norm: its rmsnorm is one small serial pass here.
   */
  matmulGlu(gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, act: GluKind, norm?: InputNorm): boolean {
    if (norm) return false;
    const g = this.weight(gate);
    const u = this.weight(up);
    if (g.type !== u.type || g.rows !== u.rows || g.cols !== u.cols || g.matmulq < 0 || nTokens > Math.min(g.int8MaxTokens, GLU_MAX_TOKENS)) return false;
    const kernel = this.fusedKernel('matmulqGlu', g);
    if (kernel < 0) return false;
    const xa = this.need(this.act(x), nTokens * g.cols, `matmulGlu input (${g.name})`);
    const oa = this.need(this.act(out), nTokens * g.rows, `matmulGlu output (${g.name})`);
    check(xa !== oa, 'BAD_ARGUMENT', 'matmulGlu cannot write into its input');
    if (this.q8.key.startsWith(`${oa.ptr}:`)) this.changed();
    const xq = this.quantizeActs(xa, g.cols, g.qb, nTokens);
    this.prepScratch(g, nTokens);
    this.run(kernel, [g.ptr, u.ptr, xq, oa.ptr, g.rows, g.cols, nTokens, act === 'silu' ? 0 : 1], g.rows, 4,
      2 * g.rows * g.cols * nTokens);
    return true;
  }

  /**
   * q, k and v of one integer format as one op (matmulqQKV_<id>) over the one rounded input; when
   * only wv is of another format (Q4_K_M's Q6_K), q and k as one op and v on its own. Other
   * triples, and batches past the integer path, go through qkvMatmul's three matmuls. Never with a
   * norm (as matmulGlu).
   */
  matmulQKV(wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number,
    norm?: InputNorm): boolean {
    if (norm) return false;
    const a = this.weight(wq);
    const b = this.weight(wk);
    const c = this.weight(wv);
    if (a.type !== b.type || a.cols !== b.cols || a.cols !== c.cols || a.matmulq < 0 || nTokens > a.int8MaxTokens) return false;
    const kernel = this.fusedKernel('matmulqQKV', a);
    if (kernel < 0) return false;
    const withV = c.type === a.type;
    const xa = this.need(this.act(x), nTokens * a.cols, `matmulQKV input (${a.name})`);
    const outs = [[q, a], [k, b], ...(withV ? [[v, c] as const] : [])] as const;
    const ptrs = outs.map(([o, m]) => this.need(this.act(o), nTokens * m.rows, `matmulQKV output (${m.name})`).ptr);
    check(!ptrs.includes(xa.ptr) && new Set(ptrs).size === ptrs.length, 'BAD_ARGUMENT', 'matmulQKV needs four distinct activations');
    if (ptrs.some((p) => this.q8.key.startsWith(`${p}:`))) this.changed();
    const xq = this.quantizeActs(xa, a.cols, a.qb, nTokens);
    this.prepScratch(a, nTokens);
    const rowsV = withV ? c.rows : 0;
    const rows = a.rows + b.rows + rowsV;
    this.run(kernel, [a.ptr, b.ptr, withV ? c.ptr : 0, xq, ptrs[0], ptrs[1], withV ? ptrs[2] : 0, a.rows, b.rows, rowsV, a.cols, nTokens],
      rows, 4, rows * a.cols * nTokens);
    if (!withV) this.matmul(wv, x, v, nTokens);
    return true;
  }

  /** The fused kernel `<op>_<id>` for w's format (-1: none), looked up once per op and format. */
  private fusedKernel(op: 'matmulqGlu' | 'matmulqQKV', w: WasmWeight): number {
    if (!this.fuse) return -1;
    const name = `${op}_${getTraits(w.type, w.name).id}`;
    let k = this.fusedKernels.get(name);
    if (k === undefined) {
      k = this.names.indexOf(name);
      this.fusedKernels.set(name, k);
    }
    return k;
  }

  /** Room past CHUNK in each thread's scratch for the row prep of w's four-token tiles (matmul-q8.template.ts). */
  private prepScratch(w: WasmWeight, nTokens: number): void {
    if (w.prepBytes > 0 && nTokens >= 4) this.ensureScratch(this.chunkBytes + w.prepBytes);
  }

  /** Every op but matmul may change an activation: the rounded copy of one is stale then. */
  private changed(): void {
    this.q8.key = '';
  }

  /** x rounded to 8-bit blocks of qb values (q8-acts.ts layout) in the q8 buffer. */
  private quantizeActs(x: WasmActivation, cols: number, qb: number, nTokens: number): number {
    // q/k/v (and gate/up) read the same input: round it once
    const key = `${x.ptr}:${cols}:${qb}:${nTokens}`;
    if (key === this.q8.key) return this.q8.ptr;
    const bytes = this.q8RowBytes(cols, qb) * nTokens;
    if (bytes > this.q8.bytes) {
      if (this.q8.bytes > 0) this.heap.release(this.q8.ptr, this.q8.bytes);
      this.q8 = { ptr: 0, bytes: 0, key: '' };
      this.q8 = { ptr: this.heap.alloc(bytes), bytes, key: '' };
    }
    this.run(this.k.quantizeActs, [x.ptr, this.q8.ptr, cols, qb, nTokens], nTokens, 1, nTokens * cols);
    this.q8.key = key;
    return this.q8.ptr;
  }

  addBias(x: Activation, bias: Weight, nTokens: number): void {
    this.changed();
    const width = bias.cols;
    const xa = this.need(this.act(x), nTokens * width, 'addBias input');
    this.run(this.k.addBias, [xa.ptr, this.vector(bias), width], nTokens, 1, nTokens * width);
  }

  rope(x: Activation, nTokens: number, nHeads: number, headDim: number, pos0: number, p: RopeParams): void {
    this.changed();
    const xa = this.need(this.act(x), nTokens * nHeads * headDim, 'rope input');
    check(p.nRot > 0 && p.nRot % 2 === 0 && p.nRot <= headDim, 'BAD_ARGUMENT',
      `rope: nRot ${p.nRot} must be even and at most headDim ${headDim}`);
    check(!p.freqFactors || p.freqFactors.length >= p.nRot / 2, 'BAD_ARGUMENT',
      `rope: freqFactors needs ${p.nRot / 2} entries`);
    this.ensureScratch(p.nRot * 4);
    const table = this.invFreq(p);
    this.run(this.k.rope, [xa.ptr, nHeads, headDim, pos0, p.nRot, p.neox ? 1 : 0, table, p.attnFactor ?? 1], nTokens, 1,
      nTokens * nHeads * headDim);
  }

  storeKV(layer: number, k: Activation, v: Activation, pos0: number, nTokens: number): void {
    const kv = this.cacheFor(layer, pos0, nTokens);
    const { kvDim } = kv.spec;
    const slots = kv.slots[layer];
    check(nTokens <= slots, 'BAD_ARGUMENT', () => `storeKV of ${nTokens} tokens overflows a ring of ${slots} positions`);
    const ka = this.need(this.act(k), nTokens * kvDim, 'storeKV k');
    const va = this.need(this.act(v), nTokens * kvDim, 'storeKV v');
    this.alive();
    // the ring wraps at most once within a batch
    for (let t = 0; t < nTokens;) {
      const slot = (pos0 + t) % slots;
      const run = Math.min(nTokens - t, slots - slot);
      const off = kv.layerOff[layer] + slot * kv.rowBytes;
      this.storeRows(ka.ptr + t * kvDim * 4, kv.k + off, run * kvDim, kv.typeCode);
      this.storeRows(va.ptr + t * kvDim * 4, kv.v + off, run * kvDim, kv.typeCode);
      t += run;
    }
  }

  attention(layer: number, q: Activation, out: Activation, pos0: number, nTokens: number, p: AttentionParams): void {
    this.changed();
    const kv = this.cacheFor(layer, pos0, nTokens);
    const { kvDim } = kv.spec;
    const { nHead, nHeadKV, headDim, scale } = p;
    const window = p.window ?? 0;
    const slots = kv.slots[layer];
    check(nHeadKV * headDim === kvDim && nHead % nHeadKV === 0, 'BAD_ARGUMENT',
      `attention: ${nHead} heads / ${nHeadKV} KV heads × ${headDim} does not match the cache's kvDim ${kvDim}`);
    // as llama.cpp: a quantized cache's blocks must not straddle heads
    check(kv.type !== 'q8_0' || headDim % 32 === 0, 'BAD_ARGUMENT',
      `a q8_0 KV cache needs heads of whole 32-value blocks; this model's heads have ${headDim} values (use f16)`);
    // a ring shorter than the context must still hold every key of the batch's windows
    check(slots >= pos0 + nTokens || (window > 0 && slots >= window + nTokens - 1), 'BAD_ARGUMENT',
      () => `attention: a ring of ${slots} positions cannot serve a window of ${window || 'all'} over ${nTokens} tokens`);
    const qa = this.need(this.act(q), nTokens * nHead * headDim, 'attention q');
    const oa = this.need(this.act(out), nTokens * nHead * headDim, 'attention output');
    const keys = window > 0 ? Math.min(pos0 + nTokens, window) : pos0 + nTokens;
    this.run(this.k.attention, [qa.ptr, oa.ptr, kv.k + kv.layerOff[layer], kv.v + kv.layerOff[layer], pos0, nTokens, nHead,
      nHeadKV, headDim, kvDim, scale, kv.typeCode, window, p.softcap ?? 0, slots],
    nTokens * nHead, nTokens, nTokens * nHead * keys * headDim);
  }

  shiftKV(layer: number, keep: number, discard: number, end: number, p: KVShiftParams): void {
    const kv = this.cacheFor(layer, 0, end);
    const { kvDim } = kv.spec;
    check([keep, discard, end].every(Number.isInteger) && keep >= 0 && discard > 0 && keep + discard <= end, 'BAD_ARGUMENT',
      () => `shiftKV: cannot drop ${discard} positions after ${keep} of ${end}`);
    check(p.nHeadKV * p.headDim === kvDim, 'BAD_ARGUMENT', `shiftKV: ${p.nHeadKV} KV heads × ${p.headDim} do not match the cache's kvDim ${kvDim}`);
    this.alive();
    const { rowBytes } = kv;
    const base = kv.layerOff[layer], slots = kv.slots[layer];
    moveRows(this.heap.u8(), kv.v + base, rowBytes, slots, keep, discard, end);
    const runs = moveRows(this.heap.u8(), kv.k + base, rowBytes, slots, keep, discard, end);
    if (p.rope) for (const [first, count] of runs) this.turnKeys(kv, kv.k + base + first * rowBytes, count, -discard, p);
  }

  /** Rotates `rows` cached keys at ptr by `delta` positions: in place when f32, else through f32 scratch. */
  private turnKeys(kv: KVCache, ptr: number, rows: number, delta: number, p: KVShiftParams): void {
    const rope = p.rope!;
    this.ensureScratch(rope.nRot * 4);
    const table = this.invFreq(rope);
    // every row is a "head" of one token at position `delta`: one angle set for all of them
    const turn = (x: number, n: number) =>
      this.run(this.k.rope, [x, n * p.nHeadKV, p.headDim, delta, rope.nRot, rope.neox ? 1 : 0, table, 1], 1, 1, 0);
    const { kvDim } = kv.spec;
    if (kv.type === 'f32') return turn(ptr, rows);
    // f16 / q8_0 rows: decode, turn, encode again (as llama.cpp's K-shift of a quantized cache)
    const tmp = this.act(p.scratch);
    const chunk = Math.floor(tmp.length / kvDim);
    check(chunk >= 1, 'BAD_ARGUMENT', `shiftKV: the scratch activation holds less than one row of ${kvDim}`);
    const deq = this.exports[`deq_${kv.type}`] as Fn, perBlock = kv.type === 'q8_0' ? 32 : 1;
    for (let r = 0; r < rows; r += chunk) {
      const n = Math.min(chunk, rows - r), at = ptr + r * kv.rowBytes;
      deq(at, tmp.ptr, (n * kvDim) / perBlock);
      turn(tmp.ptr, n);
      this.storeRows(tmp.ptr, at, n * kvDim, kv.typeCode);
    }
  }

  glu(gate: Activation, up: Activation, out: Activation, n: number, act: GluKind): void {
    this.changed();
    const g = this.need(this.act(gate), n, 'glu gate');
    const u = this.need(this.act(up), n, 'glu up');
    const o = this.need(this.act(out), n, 'glu output');
    this.run(this.k.glu, [g.ptr, u.ptr, o.ptr, act === 'silu' ? 0 : 1], n, 16, n * 4);
  }

  scale(x: Activation, n: number, factor: number): void {
    this.changed();
    const a = this.need(this.act(x), n, 'scale input');
    this.run(this.k.scale, [a.ptr, factor], n, 16, n);
  }

  softcap(x: Activation, n: number, cap: number): void {
    this.changed();
    check(cap > 0, 'BAD_ARGUMENT', `softcap needs a positive cap (got ${cap})`);
    const a = this.need(this.act(x), n, 'softcap input');
    this.run(this.k.softcap, [a.ptr, cap], n, 16, n * 4);
  }

  add(dst: Activation, src: Activation, n: number): void {
    this.changed();
    const d = this.need(this.act(dst), n, 'add destination');
    const s = this.need(this.act(src), n, 'add source');
    this.run(this.k.add, [d.ptr, s.ptr], n, 16, n);
  }

  copy(src: Activation, srcOffset: number, dst: Activation, dstOffset: number, n: number): void {
    this.changed();
    const s = this.act(src);
    const d = this.act(dst);
    check(srcOffset >= 0 && dstOffset >= 0 && n >= 0 && srcOffset + n <= s.length && dstOffset + n <= d.length,
      'BAD_ARGUMENT', () => `copy of ${n} floats (${srcOffset} → ${dstOffset}) overflows its activations`);
    this.heap.f32().copyWithin(d.ptr / 4 + dstOffset, s.ptr / 4 + srcOffset, s.ptr / 4 + srcOffset + n);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.dispose();
  }

  /** kernel over [0, total) in grain-sized shares; `work` decides whether workers are woken. */
  private run(kernel: number, args: number[], total: number, grain: number, work: number): void {
    this.alive();
    this.pool.run(kernel, args, total, grain, work >= this.parWork ? 2 : Infinity, work);
  }

  private alive(): void {
    check(!this.disposed, 'BACKEND', 'the WASM backend was disposed');
  }

  private act(a: Activation): WasmActivation {
    check(a instanceof WasmActivation && !a.freed, 'BAD_ARGUMENT', 'not a live activation of this WASM backend');
    return a;
  }

  private weight(w: Weight): WasmWeight {
    check(w instanceof WasmWeight, 'BAD_ARGUMENT', `'${w.name}' is not a weight of this WASM backend`);
    return w;
  }

  private slot(s: WeightSlot): WasmWeightSlot {
    check(s instanceof WasmWeightSlot, 'BAD_ARGUMENT', 'not a weight slot of this WASM backend');
    return s;
  }

  private need(a: WasmActivation, n: number, what: string): WasmActivation {
    check(Number.isInteger(n) && n >= 0 && n <= a.length, 'BAD_ARGUMENT', () => `${what} needs ${n} floats, the activation holds ${a.length}`);
    return a;
  }

  /** Pointer to w as f32 values (a 1-row vector): itself when F32, else a copy made once. */
  private vector(w: Weight): number {
    const m = this.weight(w);
    if (m.type === GGMLType.F32) return m.ptr;
    // a cached f32 copy of slot bytes would go stale when the slot is refilled
    check(!m.slot, 'BAD_ARGUMENT', () => `'${m.name}' is a ${ggmlTypeName(m.type)} vector in a weight slot; keep vectors resident`);
    if (m.vecPtr < 0) {
      m.vecPtr = this.heap.alloc(m.cols * 4);
      m.deq(m.ptr, m.vecPtr, m.blocksPerRow);
    }
    return m.vecPtr;
  }

  private cacheFor(layer: number, pos0: number, nTokens: number): KVCache {
    const kv = this.kv;
    if (!kv) throw new EngineError('BAD_ARGUMENT', 'createKVCache must be called before storeKV/attention');
    check(Number.isInteger(layer) && layer >= 0 && layer < kv.spec.nLayers, 'BAD_ARGUMENT', `layer ${layer} is outside the KV cache`);
    check(pos0 >= 0 && pos0 + nTokens <= kv.spec.nCtx, 'CONTEXT_FULL',
      () => `positions ${pos0}..${pos0 + nTokens - 1} exceed the context of ${kv.spec.nCtx} tokens`);
    return kv;
  }

  /** Per-thread scratch of at least `bytes` (matmul chunk, attention scores, rope cos/sin). */
  private ensureScratch(bytes: number): void {
    if (bytes <= this.scratch.stride) return;
    const stride = scratchStride(bytes);
    const ptr = this.heap.alloc(stride * this.threads);
    if (this.scratch.stride > 0) this.heap.release(this.scratch.ptr, this.scratch.stride * this.threads);
    this.scratch = { ptr, stride };
    this.pool.setScratch(ptr, stride);
  }

  /** f64 inverse frequencies freqBase^(−2i/nRot) / freqFactors[i], cached while params repeat. */
  private invFreq(p: RopeParams): number {
    const half = p.nRot / 2;
    const key = `${p.nRot}:${p.freqBase}`;
    const t = this.ropeTable;
    if (t.key === key && t.factors === p.freqFactors) return t.ptr;
    if (half * 8 > t.cap) {
      if (t.cap > 0) this.heap.release(t.ptr, t.cap);
      t.ptr = this.heap.alloc(half * 8);
      t.cap = half * 8;
    }
    const table = new Float64Array(this.heap.u8().buffer, t.ptr, half);
    for (let i = 0; i < half; i++) table[i] = p.freqBase ** (-2 * i / p.nRot) / (p.freqFactors ? p.freqFactors[i] : 1);
    t.key = key;
    t.factors = p.freqFactors;
    return t.ptr;
  }
}
