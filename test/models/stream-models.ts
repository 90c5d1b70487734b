// Models and budgets for the layer-streaming tests (Node and Chromium).
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { workingBytes } from '../../src/engine/load.ts';
import { checkModelSupport } from '../../src/models/support.ts';
import { weightBytes } from '../../src/models/weights.ts';
import { fixture } from '../fixtures.ts';

export const N_CTX = 64;

/**
 * stories260K (a trained model) with its 5 blocks applied twice (10 layers, so a quarter of the
 * weights is more than two layer slots), with its own LM head or tied to the embeddings.
 */
export async function deepStories(untied: boolean): Promise<string> {
  const f = await openGGUF(await openNodeFile(fixture('models', 'stories260K.gguf')));
  const meta = [...f.metadata].map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
  meta.find((m) => m.key === 'llama.block_count')!.value = 10;
  const tensors = [];
  for (const t of f.tensors) {
    if (!untied && t.name === 'output.weight') continue;
    const data = await f.readTensor(t);
    tensors.push({ name: t.name, type: t.type, shape: t.shape, byteSize: t.byteSize, data });
    const m = /^blk\.(\d+)\.(.*)$/.exec(t.name);
    if (m) tensors.push({ name: `blk.${Number(m[1]) + 5}.${m[2]}`, type: t.type, shape: t.shape, byteSize: t.byteSize, data });
  }
  await f.close();
  const file = path.join(os.tmpdir(), `stream-stories-${untied ? 'untied' : 'tied'}-${process.pid}.gguf`);
  await writeFile(file, writeGGUF(meta, tensors));
  return file;
}

/** --max-memory that leaves `share` of the weight bytes for weights. */
export async function capFor(file: string, share: number, threads: number, backend: 'wasm' | 'webgpu' = 'wasm'): Promise<number> {
  const f = await openGGUF(await openNodeFile(file));
  const { h, arch } = checkModelSupport(f);
  const w = weightBytes(f, h, arch);
  await f.close();
  const weights = w.fixedBytes + w.layerBytes.reduce((a, b) => a + b, 0);
  return Math.floor(workingBytes(f, h, arch, { name: backend, threads }, { nCtx: N_CTX, maxBatch: 64, kvType: 'f16' }) + share * weights);
}

