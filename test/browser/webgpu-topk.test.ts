// The device top-k (shaders/ops/top-k.wgsl: each workgroup its chunk's k best, levels until one
// chunk is left) returns exactly the CPU sampler's candidates and order, in Chromium and in Node on
// Dawn: ties by lower id, vocabularies that are not multiples of a chunk,
// one to four levels, k from 1 to 64 (and the host path above half a chunk).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webgpuHosts, type BrowserHarness } from './harness.ts';
import type { runTopK, TopKCase } from './pages/webgpu-topk-page.ts';

const CASES: [number, number, string][] = [
  [1, 1, 'ties'], [7, 7, 'ties'], [1023, 64, 'ties'], [1025, 1, 'ties'], [1025, 40, 'ties'], [5003, 40, 'ties'],
  [5003, 2, 'equal'], [5003, 64, 'equal'], [70_001, 33, 'ties'], [151_936, 40, 'ties'], [151_936, 64, 'wide'],
  [151_936, 1, 'rising'], [151_936, 17, 'rising'], [262_145, 64, 'ties'], [3000, 600, 'ties'], [70_001, 200, 'ties'],
];

describe.each(webgpuHosts({ timeoutMs: 120_000 }))('%s', (_host, open) => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await open(); });
  afterAll(async () => { await h?.close(); });

  // threadsPerRow 1: one invocation per chunk (main_serial, the SwiftShader default); 16: the workgroup tree
  describe.each([1, 16])('%i thread(s) per row', (threadsPerRow) => {
    let r: Awaited<ReturnType<typeof runTopK>>;
    beforeAll(async () => {
      r = await h.run('test/browser/pages/webgpu-topk-page.ts', 'runTopK', 11 + threadsPerRow, threadsPerRow, CASES);
    }, 180_000);

    it('covers one to four reduction levels (and the host path: none)', () => {
      expect(new Set(r.map((c) => c.levels))).toEqual(new Set([0, 1, 2, 3, 4]));
    });

    it.each(CASES.map((c, i) => [`n ${c[0]}, k ${c[1]}, ${c[2]}`, i] as const))('%s: the CPU sampler\'s ids and values in its order', (_name, i) => {
      const c: TopKCase = r[i];
      expect(c.got).toEqual(c.want);
      expect(c.ok, `first mismatch at rank ${c.firstBad}`).toBe(true);
    });
  });
});
