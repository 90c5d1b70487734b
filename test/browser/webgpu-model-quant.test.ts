// Perplexity of sample.txt on the WebGPU backend in headless Chromium vs llama.cpp
// (llamacpp-refs.json) for the dev-llama.* block-format files; the rest is in webgpu-model.test.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

interface Ref { ppl: number; nTokens: number }
const refs: Record<string, Ref> = JSON.parse(readFileSync(fixture('quant', 'llamacpp-refs.json'), 'utf8'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const PAGE = 'test/browser/pages/model-page.ts';
type Ppl = { ppl: number; nTokens: number };

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
afterAll(async () => { await h?.close(); });

describe('WebGPU perplexity of sample.txt matches llama.cpp, every block format', () => {
  for (const [name, ref] of Object.entries(refs).filter(([n]) => n.startsWith('dev-llama.'))) {
    // as the CPU path: random weights, llama.cpp's 8-bit activation rounding → |Δ ln ppl| ≤ 0.02
    const bound = 0.02;
    it(`${name}: |Δ ln ppl| ≤ ${bound.toFixed(4)}`, async () => {
      const r = await h.run<Ppl>(PAGE, 'perplexity', h.fixtureUrl('quant', name), sample);
      const delta = Math.abs(Math.log(r.ppl) - Math.log(ref.ppl));
      console.log(`${name}: webgpu ppl ${r.ppl.toFixed(3)} vs llama.cpp ${ref.ppl.toFixed(3)} (Δln ${delta.toFixed(5)})`);
      expect(r.nTokens).toBe(ref.nTokens);
      expect(delta).toBeLessThanOrEqual(bound);
    });
  }
});
