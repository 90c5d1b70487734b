// Device memory: weights uploaded once in their GGUF block bytes, split by whole rows into several
// buffers when a tensor exceeds the binding limit; f32 activations; the KV cache as u32 words.
import type { Activation, Weight } from '../backend.ts';
import type { GGMLType } from '../../quant/types.ts';
import { getTraits } from '../../quant/traits.ts';
import { EngineError } from '../../shared/errors.ts';

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

/** Buffer size of one layer's K (or V) cache of `slots` rows of `rowBytes`. */
export function kvBufferSize(slots: number, rowBytes: number): number {
  return align4(Math.max(16, slots * rowBytes));
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

/** Per-layer K and V caches of slots[l] × kvDim values (f32 bits or packed f16 pairs in u32 words). */
export function allocKV(device: GPUDevice, bindingLimit: number, slots: readonly number[], kvDim: number, half: boolean): KVLayer[] {
  if (half && kvDim % 2 !== 0) throw new EngineError('BAD_ARGUMENT', `An f16 KV cache needs an even KV width (got ${kvDim}).`);
  return slots.map((n, l) => {
    const size = kvBufferSize(n, kvDim * (half ? 2 : 4));
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
