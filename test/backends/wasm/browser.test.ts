// The WASM backend in headless Chromium (cross-origin isolated, so threads are available):
// fetch-loaded kernels (the relaxed-SIMD build), module-worker pool, main-thread spin wait and
// in-worker Atomics.wait. The Q4_K matmul runs the integer path: checked on rounded activations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserHarness } from '../../browser/harness.ts';
import type { BrowserResult } from './browser-page.ts';

const PAGE = 'test/backends/wasm/browser-page.ts';

describe('wasm backend in Chromium', () => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await openBrowser({ timeoutMs: 30_000 }); });
  afterAll(async () => { await h?.close(); });

  it.each([1, 2])('page main thread, %i thread(s): Q4_K matmul rel err < 1e-5', async (threads) => {
    const r = await h.run<BrowserResult>(PAGE, 'matmulCheck', threads);
    expect(r).toMatchObject({ threads, isolated: true, simd: 'relaxed' });
    expect(r.err).toBeLessThan(1e-5);
  });

  it('inside a module worker, 2 threads: Q4_K matmul rel err < 1e-5', async () => {
    const r = await h.run<BrowserResult>(PAGE, 'matmulCheckInWorker', 2);
    expect(r).toMatchObject({ threads: 2, isolated: true, simd: 'relaxed' });
    expect(r.err).toBeLessThan(1e-5);
  });
});
