// Device memory: weights uploaded once in their GGUF block bytes, split by whole rows into several
// buffers when a tensor exceeds the binding limit; f32 activations; the KV cache as u32 words
// (f32 bits, f16 pairs, or q8_0 quant and scale planes).
import type { Activation, Weight } from '../backend.ts';
import type { GGMLType } from '../../quant/types.ts';
import { getTraits } from '../../quant/traits.ts';
import { EngineError } from '../../shared/errors.ts';
import { kvRowBytes, type KVType } from '../kv-layout.ts';

/** rows [row0, row0 + rows) of a weight in one buffer */
export interface WeightChunk {
  readonly buffer: GPUBuffer;
  readonly row0: number;
  readonly rows: number;
}

export class GPUWeight implements Weight {
  constructor(readonly name: string, readonly type: GGMLType, readonly cols: number, readonly rows: number,
    readonly rowBytes: number, readonly chunks: readonly WeightChunk[]) {}
  get bytes(): number {
    return this.rowBytes * this.rows;
  }
}

export class GPUActivation implements Activation {
  constructor(readonly buffer: GPUBuffer, readonly length: number) {}
}

// A function, not a constant: GPUBufferUsage exists only where WebGPU does.
const storage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Rows per chunk so that one chunk fits a binding. */
export function rowsPerChunk(name: string, rowBytes: number, rows: number, bindingLimit: number): number {
  const per = Math.floor(bindingLimit / rowBytes);
  if (per < 1) {
    throw new EngineError('BACKEND', `Tensor '${name}' has rows of ${rowBytes} bytes, more than one GPU binding can hold (${bindingLimit} bytes).`);
  }
  return Math.min(per, rows);
}

/** Buffer sizes a weight of `rows` rows of `rowBytes` takes: one per binding-sized chunk (the pre-flight reads this). */
export function weightBufferSizes(name: string, rowBytes: number, rows: number, bindingLimit: number): number[] {
  const per = rowsPerChunk(name, rowBytes, rows, bindingLimit);
  const sizes: number[] = [];
  for (let row0 = 0; row0 < rows; row0 += per) sizes.push(align4(Math.min(per, rows - row0) * rowBytes));
  return sizes;
}

/** Buffer size of an activation of `length` floats. */
export function activationBufferSize(length: number): number {
  return align4(Math.max(16, length * 4));
}

export function uploadWeight(device: GPUDevice, bindingLimit: number, name: string, type: GGMLType,
  cols: number, rows: number, data: Uint8Array): GPUWeight {
  const t = getTraits(type, name);
  if (cols % 4 !== 0 || cols % t.blockSize !== 0) {
    throw new EngineError('BAD_SHAPE', `Tensor '${name}' has rows of ${cols} values; the WebGPU kernels need a multiple of 4 and of the block size ${t.blockSize}.`);
  }
  const rowBytes = (cols / t.blockSize) * t.typeSize;
  if (data.length < rowBytes * rows) {
    throw new EngineError('BAD_SHAPE', `Tensor '${name}' needs ${rowBytes * rows} bytes but got ${data.length}.`);
  }
  const per = rowsPerChunk(name, rowBytes, rows, bindingLimit);
  const chunks: WeightChunk[] = [];
  for (let row0 = 0; row0 < rows; row0 += per) {
    const n = Math.min(per, rows - row0);
    const bytes = data.subarray(row0 * rowBytes, (row0 + n) * rowBytes);
    const buffer = device.createBuffer({ label: `${name}[${row0}..]`, size: align4(bytes.length), usage: storage(), mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(bytes);
    buffer.unmap();
    chunks.push({ buffer, row0, rows: n });
  }
  return new GPUWeight(name, type, cols, rows, rowBytes, chunks);
}

export function allocActivation(device: GPUDevice, bindingLimit: number, length: number): GPUActivation {
  const size = activationBufferSize(length);
  if (size > bindingLimit) {
    throw new EngineError('BACKEND', `An activation of ${length} floats (${size} bytes) exceeds the GPU binding limit of ${bindingLimit} bytes.`);
  }
  return new GPUActivation(device.createBuffer({ size, usage: storage() }), length);
}

export interface KVLayer {
  readonly k: GPUBuffer;
  readonly v: GPUBuffer;
  /** ring capacity in positions */
  readonly slots: number;
}

/**
 * Bytes of one cached row (one position of one layer) as the GPU stores it. f32 and f16 are
 * kvRowBytes. q8_0 splits each layer's buffer into two planes for word access: first the int8
 * quants of every row (4 per u32, kvDim bytes a row), then the f16 scales, 2 per u32, each row's
 * padded to whole words (kvDim/64 words when kvDim is a multiple of 64: exactly 34 B per 32 values).
 */
export function gpuKVRowBytes(type: KVType, kvDim: number): number {
  if (type !== 'q8_0') return kvRowBytes(type, kvDim);
  kvRowBytes(type, kvDim); // whole blocks, or the typed error
  return kvDim + Math.ceil(kvDim / 64) * 4;
}

/** Bytes of one layer's K (or V) buffer: what createBuffer is asked for, for the memory pre-flight. */
export function gpuKVLayerBytes(type: KVType, kvDim: number, slots: number): number {
  return align4(Math.max(16, slots * gpuKVRowBytes(type, kvDim)));
}

/** Per-layer K and V caches of slots[l] rows of kvDim values in `type` (layout: gpuKVRowBytes). */
export function allocKV(device: GPUDevice, bindingLimit: number, slots: readonly number[], kvDim: number, type: KVType): KVLayer[] {
  if (type === 'f16' && kvDim % 2 !== 0) throw new EngineError('BAD_ARGUMENT', `An f16 KV cache needs an even KV width (got ${kvDim}).`);
  return slots.map((n, l) => {
    const size = gpuKVLayerBytes(type, kvDim, n);
    if (size > bindingLimit) {
      throw new EngineError('BACKEND', `A KV cache layer of ${size} bytes exceeds the GPU binding limit of ${bindingLimit} bytes; use a shorter context.`);
    }
    return {
      k: device.createBuffer({ label: `k${l}`, size, usage: storage() }),
      v: device.createBuffer({ label: `v${l}`, size, usage: storage() }),
      slots: n,
    };
  });
}
