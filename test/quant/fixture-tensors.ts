// Loads every tensor of a GGUF fixture (raw bytes + facts) through the engine's GGUF reader.
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { dequantizeTensor } from '../../src/quant/traits.ts';
import { fixture } from '../fixtures.ts';

export interface RawTensor {
  readonly name: string;
  readonly type: number;
  readonly shape: readonly number[];
  readonly nElements: number;
  readonly bytes: Uint8Array;
}

/** Tensors of fixtures/<dir>/<file> (the IQ4 requantizations of dev-llama sit in fixtures/arch). */
export async function loadTensors(file: string, dir = 'quant'): Promise<RawTensor[]> {
  const g = await openGGUF(await openNodeFile(fixture(dir, file)));
  try {
    const out: RawTensor[] = [];
    for (const t of g.tensors) out.push({ name: t.name, type: t.type, shape: t.shape, nElements: t.nElements, bytes: await g.readTensor(t) });
    return out;
  } finally {
    await g.close();
  }
}

/** The F32 parent every dev-llama.* file was quantized from, as name → values. */
export async function loadParent(): Promise<Map<string, Float32Array>> {
  const tensors = await loadTensors('dev-llama.f32.gguf');
  return new Map(tensors.map((t) => [t.name, dequantizeTensor(t.type, t.bytes, t.nElements, t.name)]));
}

/** ‖a − b‖ / ‖b‖ */
export function relRms(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
