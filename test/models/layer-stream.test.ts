// Layer streaming under a device memory cap (--max-memory): the output must be the resident run's,
// bit for bit, and the WASM memory must stay within the cap. Budgets are given as in the bench:
// the decoder's working memory plus a share of the weight bytes.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { argmax } from '../../src/engine/sampling.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { checkModelSupport } from '../../src/models/support.ts';
import { workingBytes } from '../../src/models/decoder.ts';
import { weightBytes } from '../../src/models/weights.ts';
import { fixture } from '../fixtures.ts';

const N_CTX = 64;

/**
 * stories260K (a trained model) with its 5 blocks applied twice (10 layers, so a quarter of the
 * weights is more than two layer slots), with its own LM head or tied to the embeddings.
 */
async function deepStories(untied: boolean): Promise<string> {
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
async function capFor(file: string, share: number, threads: number): Promise<number> {
  const f = await openGGUF(await openNodeFile(file));
  const { h, arch } = checkModelSupport(f);
  const w = weightBytes(f, h, arch);
  await f.close();
  const weights = w.fixedBytes + w.layerBytes.reduce((a, b) => a + b, 0);
  return Math.floor(workingBytes(h, arch, { nCtx: N_CTX, maxBatch: 64, kvType: 'f32' }, threads) + share * weights);
}

/** Prompt logits (all positions) and 8 greedy tokens, with the WASM memory they took. */
async function run(file: string, threads: number, maxMemoryBytes?: number) {
  const backend = await createWasmBackend({ threads, maxMemoryBytes }) as WasmBackend;
  const m = await loadModel(await openNodeFile(file), backend, { nCtx: N_CTX, maxMemoryBytes });
  try {
    const prompt = Int32Array.from(m.tokenizer.encode('Once upon a time'));
    const logits = await m.decoder.forward(prompt, 0, true);
    const V = m.h.vocabSize;
    const ids = [argmax(logits.subarray((prompt.length - 1) * V))];
    for (let i = 0; i < 7; i++) ids.push(argmax(await m.decoder.forward(Int32Array.of(ids[i]), prompt.length + i, false)));
    return { logits, ids, memory: backend.memoryBytes(), residency: m.residency, nLayers: m.h.nLayers };
  } finally {
    await m.dispose();
  }
}

describe('layer streaming', () => {
  for (const untied of [false, true]) {
    it(`10-layer stories (${untied ? 'untied' : 'tied'} head): identical output at 50% and 25% weight budgets, memory within the cap`, async () => {
      const c = { file: await deepStories(untied) };
      const full = await run(c.file, 2);
      expect(full.residency).toBeNull();
      for (const [share, threads] of [[0.5, 2], [0.25, 2], [0.25, 1]] as const) {
        const cap = await capFor(c.file, share, threads);
        const r = await run(c.file, threads, cap);
        // threads 2: bytes read straight into the shared heap; 1: read, then copied in
        expect(r.residency!.resident.filter(Boolean).length, `${share} ${threads}`).toBeLessThan(r.nLayers);
        expect(r.ids).toEqual(full.ids);
        expect(Buffer.from(r.logits.buffer).equals(Buffer.from(full.logits.buffer))).toBe(true);
        expect(r.memory).toBeLessThanOrEqual(cap * 1.1);
        expect(r.memory).toBeLessThan(full.memory);
        // a quarter of the weights cannot hold the embeddings: they are read per batch, the head streams
        if (share === 0.25) expect(r.residency!.streamHead).toBeDefined();
      }
    }, 120_000);
  }

  it('a cap too small even for streaming fails before loading, naming the least cap', async () => {
    const file = fixture('models', 'stories260K.gguf');
    const backend = await createWasmBackend({ threads: 1 });
    const e = await loadModel(await openNodeFile(file), backend, { nCtx: N_CTX, maxMemoryBytes: 256 << 10 }).catch((x) => x);
    backend.dispose();
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/needs at least [\d.]+ MiB .* the cap is 0\.3 MiB/);
  });
});
