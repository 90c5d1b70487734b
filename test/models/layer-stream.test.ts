// Layer streaming under a device memory cap (--max-memory): the output must be the resident run's,
// bit for bit, and the WASM memory must stay within the cap. Budgets are given as in the bench:
// the decoder's working memory plus a share of the weight bytes.
import { describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { argmax } from '../../src/engine/sampling.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';
import { capFor, deepStories, N_CTX } from './stream-models.ts';

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
