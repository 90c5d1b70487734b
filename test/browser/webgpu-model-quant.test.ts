// Perplexity of sample.txt on the WebGPU backend in headless Chromium vs llama.cpp
// (llamacpp-refs.json) for the dev-llama.* block-format files (the IQ4 ones sit in fixtures/arch);
// the rest is in webgpu-model.test.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

interface Ref { ppl: number; nTokens: number }
const refsIn = (dir: string): [string, string, Ref][] =>
  Object.entries(JSON.parse(readFileSync(fixture(dir, 'llamacpp-refs.json'), 'utf8')) as Record<string, Ref>)
    .filter(([n]) => n.startsWith('dev-llama.')).map(([n, r]) => [dir, n, r]);
const FILES = [...refsIn('quant'), ...refsIn('arch')];
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const PAGE = 'test/browser/pages/model-page.ts';
type Ppl = { ppl: number; nTokens: number };

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
afterAll(async () => { await h?.close(); });

describe('WebGPU perplexity of sample.txt matches llama.cpp, every block format', () => {
  it('includes the IQ4 files', () => expect(FILES.map(([, n]) => n)).toEqual(expect.arrayContaining(['dev-llama.IQ4_NL.gguf', 'dev-llama.IQ4_XS.gguf'])));
  for (const [dir, name, ref] of FILES) {
    // as the CPU path: random weights, llama.cpp's 8-bit activation rounding → |Δ ln ppl| ≤ 0.02
    const bound = 0.02;
    it(`${name}: |Δ ln ppl| ≤ ${bound.toFixed(4)}`, async () => {
      const r = await h.run<Ppl>(PAGE, 'perplexity', h.fixtureUrl(dir, name), sample);
      const delta = Math.abs(Math.log(r.ppl) - Math.log(ref.ppl));
      console.log(`${name}: webgpu ppl ${r.ppl.toFixed(3)} vs llama.cpp ${ref.ppl.toFixed(3)} (Δln ${delta.toFixed(5)})`);
      expect(r.nTokens).toBe(ref.nTokens);
      expect(delta).toBeLessThanOrEqual(bound);
    });
  }
});
