// The cooperative kernels (several threads per weight row, workgroup reductions, cooperative
// attention) that real GPUs default to, end to end on a model: same perplexity as the serial
// kernels SwiftShader defaults to (webgpu-model.test.ts checks those against llama.cpp).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const PAGE = 'test/browser/pages/model-page.ts';
type Ppl = { ppl: number; nTokens: number };

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
afterAll(async () => { await h?.close(); });

describe('WebGPU cooperative kernels on a model', () => {
  it('the cooperative kernels real GPUs default to (16 threads per row) give the same perplexity', async () => {
    const url = h.fixtureUrl('models', 'stories260K.gguf');
    const text = sample.slice(0, 300); // barriers are slow on SwiftShader: keep it short
    const serial = await h.run<Ppl>(PAGE, 'perplexity', url, text, { threadsPerRow: 1 });
    const coop = await h.run<Ppl>(PAGE, 'perplexity', url, text, { threadsPerRow: 16 });
    expect(serial.nTokens).toBeGreaterThan(64); // more than one batch and one key chunk
    // only the f32 summation order differs
    expect(Math.abs(Math.log(coop.ppl / serial.ppl))).toBeLessThan(1e-4);
  });
});
