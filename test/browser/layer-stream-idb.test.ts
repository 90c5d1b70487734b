// Layer streaming from the IndexedDB shard cache in Chromium (the app's path for stored models):
// a 50% weight budget reads the streamed layers from the shards on every forward pass and gives
// the resident run's greedy ids, with the WASM memory within the cap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capFor, deepStories, N_CTX } from '../models/stream-models.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 120_000 }); });
afterAll(async () => { await h?.close(); });

describe('layer streaming from IndexedDB shards', () => {
  it('greedy ids at a 50% budget equal the resident run, memory within the cap', async () => {
    const model = await deepStories(true);
    const cap = await capFor(model, 0.5, 1);
    type G = { ids: number[]; memoryBytes: number; streamedLayers: number };
    const r = await h.run<{ resident: G; streamed: G }>('test/browser/pages/stream-idb-page.ts', 'importAndStream', h.fileUrl(model), N_CTX, cap);
    expect(r.resident.ids).toHaveLength(24);
    expect(r.streamed.ids).toEqual(r.resident.ids);
    expect(r.streamed.streamedLayers).toBeGreaterThan(0);
    expect(r.streamed.memoryBytes).toBeLessThanOrEqual(cap * 1.1);
    expect(r.streamed.memoryBytes).toBeLessThan(r.resident.memoryBytes);
  }, 240_000);
});
