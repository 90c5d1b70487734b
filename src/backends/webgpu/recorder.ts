// Records dispatches into one command encoder / compute pass and submits them together, so a
// decoded token costs one submission. Each dispatch's parameters take a 256-byte slot of a uniform
// ring, written with one writeBuffer right before the submit (queue order keeps slots safe to reuse).
const SLOT = 256;
const SLOTS = 1024;
/** The uniform ring's bytes (the memory pre-flight counts it). */
export const UNIFORM_RING_BYTES = SLOT * SLOTS;
// every op struct P is at most 64 bytes

/** A uniform field: a u32 (plain number) or an f32. */
export type Field = number | { f32: number };

/**
 * What one dispatch reads, given by the op that records it from the ranges its kernel reads of
 * each bound buffer (each byte once, as the kernel's indices reach it; caches not modelled).
 */
export interface DispatchCost {
  /** the kernel (an op of shaders/ops, or a variant of it) */
  op: string;
  /** invocations per workgroup, as the pipeline's override constants set it */
  wg: number;
  weights?: number;
  kv?: number;
  activations?: number;
}

export interface ByteCounts { weights: number; kv: number; activations: number }

export interface OpCounts { dispatches: number; workgroups: number; workgroupSize: number; bytes: number }

export class Recorder {
  dispatches = 0;
  submits = 0;
  /** bytes read by the dispatches recorded so far */
  readonly bytes: ByteCounts = { weights: 0, kv: 0, activations: 0 };
  /** per-kernel tallies, kept only while counting per op is on (a map update per dispatch) */
  perOp: Map<string, OpCounts> | null = null;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private used = 0;
  private readonly ring: GPUBuffer;
  private readonly staging = new ArrayBuffer(SLOT * SLOTS);
  private readonly u32 = new Uint32Array(this.staging);
  private readonly f32 = new Float32Array(this.staging);
  /** per-dispatch buffers (token ids, rope tables) freed once their submission is queued */
  private garbage: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice, readonly maxGroupsPerDim: number) {
    this.ring = device.createBuffer({ label: 'uniforms', size: UNIFORM_RING_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** Splits n workgroups into an (x, y) grid within the per-dimension limit. */
  grid(n: number): [number, number] {
    const x = Math.max(1, Math.min(n, this.maxGroupsPerDim));
    return [x, Math.ceil(n / x)];
  }

  dispatch(pipeline: GPUComputePipeline, buffers: GPUBuffer[], fields: Field[], groups: [number, number, number?], cost: DispatchCost): void {
    if (this.used === SLOTS) this.flush();
    const slot = this.used++;
    fields.forEach((f, i) => {
      if (typeof f === 'number') this.u32[slot * (SLOT / 4) + i] = f;
      else this.f32[slot * (SLOT / 4) + i] = f.f32;
    });
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: this.ring, offset: slot * SLOT, size: 64 } });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2] ?? 1);
    this.dispatches++;
    const w = cost.weights ?? 0, k = cost.kv ?? 0, a = cost.activations ?? 0;
    this.bytes.weights += w;
    this.bytes.kv += k;
    this.bytes.activations += a;
    if (this.perOp) {
      let c = this.perOp.get(cost.op);
      if (!c) this.perOp.set(cost.op, c = { dispatches: 0, workgroups: 0, workgroupSize: cost.wg, bytes: 0 });
      c.dispatches++;
      c.workgroups += groups[0] * groups[1] * (groups[2] ?? 1);
      c.bytes += w + k + a;
    }
  }

  /** A read-only storage buffer holding `data`, valid for the dispatches recorded before the next flush. */
  temp(data: Uint32Array | Float32Array): GPUBuffer {
    const buf = this.device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    this.garbage.push(buf);
    return buf;
  }

  /** Records a copy of `size` bytes of src into a fresh mappable buffer (submitted by the next flush). */
  readback(src: GPUBuffer, offset: number, size: number): GPUBuffer {
    const dst = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, offset, dst, 0, size);
    return dst;
  }

  /** Records a copy of `size` bytes between buffers, in order with the dispatches around it. */
  copy(src: GPUBuffer, dst: GPUBuffer, size: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, 0, dst, 0, size);
  }

  /** A scratch storage buffer of `size` bytes (a copy target), freed with the next flush. */
  scratch(size: number): GPUBuffer {
    const buf = this.device.createBuffer({ size: Math.max(16, size), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    this.garbage.push(buf);
    return buf;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.used) this.device.queue.writeBuffer(this.ring, 0, this.staging, 0, this.used * SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.used = 0;
    for (const b of this.garbage) b.destroy();
    this.garbage = [];
  }

  get pending(): boolean {
    return this.encoder !== null;
  }

  dispose(): void {
    this.ring.destroy();
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
