// The WebGPU pre-flight against the backend's own count of its buffers (weights split at the
// binding limit, activations, KV layers), in headless Chromium (SwiftShader).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserHarness } from './harness.ts';

const PAGE = 'test/browser/pages/fit-page.ts';
type Measured = { memoryBytes: number; estimate: { backendBytes: number; transientBytes: number; weightsBytes: number; kvBytes: number }; chunks: number };

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
afterAll(async () => { await h?.close(); });

describe('WebGPU memory estimate', () => {
  for (const [dir, name, force] of [['quant', 'dev-gpt2vocab.Q4_0.gguf', 1 << 20], ['quant', 'dev-llama.Q3_K_M.gguf', undefined],
    ['arch', 'dev-gemma3.Q8_0.gguf', undefined]] as const) {
    it(`${name}${force ? ' (1 MiB binding limit)' : ''}: the buffers the backend holds, to the byte`, async () => {
      const r = await h.run<Measured>(PAGE, 'measure', h.fixtureUrl(dir, name), 512, force);
      console.log(`${name}: predicted ${r.estimate.backendBytes} (persistent ${r.estimate.backendBytes - r.estimate.transientBytes}), measured ${r.memoryBytes}`);
      if (force) expect(r.chunks).toBeGreaterThan(1);
      expect(r.estimate.backendBytes - r.estimate.transientBytes).toBe(r.memoryBytes);
    });
  }
});
