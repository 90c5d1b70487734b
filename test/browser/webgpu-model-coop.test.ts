// The cooperative kernels (several threads per weight row, row reductions, cooperative attention)
// that real GPUs default to, end to end on a model: same perplexity as the serial kernels
// SwiftShader defaults to (webgpu-model.test.ts checks those against llama.cpp), with the
// reductions over subgroups (where the adapter has them) and forced onto workgroup memory. In
// Chromium and in Node on Dawn (whose SwiftShader has subgroups of 4).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { webgpuHosts, type BrowserHarness } from './harness.ts';

const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const PAGE = 'test/browser/pages/model-page.ts';
type Ppl = { ppl: number; nTokens: number; subgroups: boolean };

describe.each(webgpuHosts({ timeoutMs: 60_000 }))('%s', (host, open) => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await open(); });
  afterAll(async () => { await h?.close(); });

  it('the cooperative kernels real GPUs default to (16 threads per row) give the same perplexity, subgroups on and off', async () => {
    const url = h.fixtureUrl('models', 'stories260K.gguf');
    const text = sample.slice(0, 300); // barriers are slow on SwiftShader: keep it short
    const serial = await h.run<Ppl>(PAGE, 'perplexity', url, text, { threadsPerRow: 1 });
    const coop = await h.run<Ppl>(PAGE, 'perplexity', url, text, { threadsPerRow: 16 });
    const coopWg = await h.run<Ppl>(PAGE, 'perplexity', url, text, { threadsPerRow: 16, subgroups: false });
    console.log(`stories260K ppl: serial ${serial.ppl} coop ${coop.ppl} coop without subgroups ${coopWg.ppl}`);
    expect(serial.nTokens).toBeGreaterThan(64); // more than one batch and one key chunk
    if (host === 'Node (Dawn)') expect(coop.subgroups).toBe(true); // Dawn's SwiftShader has them
    expect(coopWg.subgroups).toBe(false);
    // only the f32 summation order differs
    expect(Math.abs(Math.log(coop.ppl / serial.ppl))).toBeLessThan(1e-4);
    expect(Math.abs(Math.log(coopWg.ppl / serial.ppl))).toBeLessThan(1e-4);
  });
});
