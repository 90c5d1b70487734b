// Weight slots on the GPU (layer streaming, src/models/layer-stream.ts). A storage binding starts
// where its buffer starts, so a slot is not one buffer with views at offsets: each view (offset,
// shape) gets its own chunk buffers, made once and shared by every layer that lands at that
// offset with that shape, and a write scatters its bytes into the views it overlaps. Views must
// exist before the bytes they show are written (the stream makes a layer's views, then fills them).
import type { WeightSlot } from '../backend.ts';
import { EngineError } from '../../shared/errors.ts';
import type { GGMLType } from '../../quant/types.ts';
import { GPUWeight, rowsPerChunk, type WeightChunk } from './buffers.ts';
import { getTraits } from '../../quant/traits.ts';

interface SlotView { offset: number; rowBytes: number; rows: number; chunks: WeightChunk[] }

export class GPUWeightSlot implements WeightSlot {
  private readonly views = new Map<string, SlotView>();
  /** bytes of the GPU buffers made so far */
  deviceBytes = 0;

  constructor(readonly bytes: number, private readonly device: GPUDevice, private readonly bindingLimit: number) {}

  /** A weight over [offset, offset + rows × row bytes) of the slot (its buffers made on first use). */
  weight(offset: number, name: string, type: GGMLType, cols: number, rows: number): GPUWeight {
    const t = getTraits(type, name);
    const rowBytes = (cols / t.blockSize) * t.typeSize;
    if (offset < 0 || offset + rows * rowBytes > this.bytes) {
      throw new EngineError('BAD_ARGUMENT', `tensor '${name}' (${rows * rowBytes} bytes at ${offset}) overflows a weight slot of ${this.bytes}`);
    }
    if (offset % 4 || rowBytes % 4) {
      throw new EngineError('BACKEND', `tensor '${name}' cannot stream on WebGPU: its rows (${rowBytes} bytes at ${offset}) are not whole 4-byte words.`);
    }
    const key = `${offset}:${rowBytes}:${rows}`;
    let v = this.views.get(key);
    if (!v) {
      const per = rowsPerChunk(name, rowBytes, rows, this.bindingLimit);
      const chunks: WeightChunk[] = [];
      for (let row0 = 0; row0 < rows; row0 += per) {
        const n = Math.min(per, rows - row0);
        const size = Math.max(16, n * rowBytes);
        chunks.push({ buffer: this.device.createBuffer({ label: `slot@${offset + row0 * rowBytes}`, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }), row0, rows: n });
        this.deviceBytes += size;
      }
      v = { offset, rowBytes, rows, chunks };
      this.views.set(key, v);
    }
    return new GPUWeight(name, type, cols, rows, rowBytes, v.chunks);
  }

  /** Writes data at `offset` into every view it overlaps (queue order: after work already submitted). */
  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (offset < 0 || end > this.bytes) throw new EngineError('BAD_ARGUMENT', `${data.length} bytes at ${offset} overflow a weight slot of ${this.bytes}`);
    for (const v of this.views.values()) {
      for (const c of v.chunks) {
        const c0 = v.offset + c.row0 * v.rowBytes, c1 = c0 + c.rows * v.rowBytes;
        const a = Math.max(c0, offset), b = Math.min(c1, end);
        if (a >= b) continue;
        if ((a - offset) % 4 || (b - a) % 4) throw new EngineError('BACKEND', `a write of ${data.length} bytes at ${offset} splits a GPU word of the slot.`);
        this.device.queue.writeBuffer(c.buffer, a - c0, data as Uint8Array<ArrayBuffer>, a - offset, b - a);
      }
    }
  }
}
