// Issue 3: decoding on WebGPU samples from top-k candidates computed on the GPU, reading back a few
// bytes per token, and draws exactly the tokens the WASM path draws from the full logits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserHarness } from './harness.ts';

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
afterAll(async () => { await h?.close(); });

describe('GPU-side sampling', () => {
  it('same seed → same tokens as WASM; a few hundred bytes read back per token, not the vocabulary', async () => {
    const url = h.fixtureUrl('models', 'stories260K.gguf');
    type R = { ids: number[]; readBackBytesPerToken: number };
    // f32 KV on both: an f16 cache rounds the backends' ~1e-6 sum-order differences (subgroup
    // reductions) to f16 ulps, ~1e-3 in the logits, enough to flip a seeded draw now and then
    const gpu = await h.run<R>('test/browser/pages/model-page.ts', 'sampled', url, 'webgpu', 60, 'f32');
    const cpu = await h.run<R>('test/browser/pages/model-page.ts', 'sampled', url, 'wasm', 60, 'f32');
    expect(gpu.ids).toHaveLength(60);
    expect(gpu.ids).toEqual(cpu.ids);
    expect(gpu.readBackBytesPerToken).toBeLessThanOrEqual(8 * 40); // 40 (id, logit) pairs, vs 512 × 4 bytes of logits
  });
});
