// The real engine on the WebGPU backend, inside headless Chromium and in Node on Dawn (the same
// page module and checks), model files read over HTTP range requests: perplexity of sample.txt vs llama.cpp (llamacpp-refs.json) for every fixture, the
// llama2.c golden text from stories260K, and a forced small binding limit that splits the
// embedding / LM head without changing the result.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { webgpuHosts, type BrowserHarness } from './harness.ts';

interface Ref { ppl: number; nTokens: number }
const refs: Record<string, Ref> = JSON.parse(readFileSync(fixture('quant', 'llamacpp-refs.json'), 'utf8'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const where = (name: string) => (name === 'stories260K.gguf' || name === 'llama-2-tiny-random.gguf' ? 'models' : 'quant');
const PAGE = 'test/browser/pages/model-page.ts';
type Ppl = { ppl: number; nTokens: number; chunks: number };

describe.each(webgpuHosts({ timeoutMs: 60_000 }))('%s', (_host, open) => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await open(); });
  afterAll(async () => { await h?.close(); });

  // the dev-llama.* files run in webgpu-model-quant.test.ts (each file stays under a minute here)
  describe('WebGPU perplexity of sample.txt matches llama.cpp', () => {
    for (const [name, ref] of Object.entries(refs).filter(([n]) => !n.startsWith('dev-llama.'))) {
      // as the CPU path: 0.5% for the trained model, |Δ ln ppl| ≤ 0.02 on random weights
      const bound = name === 'stories260K.gguf' ? Math.log(1.005) : 0.02;
      it(`${name}: |Δ ln ppl| ≤ ${bound.toFixed(4)}`, async () => {
        const r = await h.run<Ppl>(PAGE, 'perplexity', h.fixtureUrl(where(name), name), sample);
        const delta = Math.abs(Math.log(r.ppl) - Math.log(ref.ppl));
        console.log(`${name}: webgpu ppl ${r.ppl.toFixed(3)} vs llama.cpp ${ref.ppl.toFixed(3)} (Δln ${delta.toFixed(5)})`);
        expect(r.nTokens).toBe(ref.nTokens);
        expect(delta).toBeLessThanOrEqual(bound);
      });
    }
  });

  describe('WebGPU generation and binding limits', () => {
    it('stories260K greedy from BOS prints the llama2.c golden text (200 tokens)', async () => {
      const readme = readFileSync(fixture('models', 'README.md'), 'utf8');
      const golden = /> (Once upon a time, there was a little girl named Lily\..*?so she)\n/s.exec(readme)![1].replace(/\\n/g, '\n');
      const r = await h.run<{ text: string; ids: number[]; submits: number; dispatches: number }>(PAGE, 'greedy', h.fixtureUrl('models', 'stories260K.gguf'), 200);
      expect(r.ids).toHaveLength(200);
      expect(r.text).toBe(golden);
      // one command submission per forward pass (1 prefill + 199 decode steps)
      console.log(`stories260K: ${(r.dispatches / 200).toFixed(1)} dispatches and ${(r.submits / 200).toFixed(2)} submissions per token`);
      expect(r.submits).toBeLessThanOrEqual(r.ids.length);
    });

    it('an embedding / tied LM head above a forced 1 MiB binding limit is split and gives the same perplexity', async () => {
      const url = h.fixtureUrl('quant', 'dev-gpt2vocab.Q4_0.gguf'); // token_embd: 50257 × 128 Q8_0 ≈ 6.8 MB
      const text = sample.slice(0, 200);
      const plain = await h.run<Ppl>(PAGE, 'perplexity', url, text);
      const forced = await h.run<Ppl>(PAGE, 'perplexity', url, text, { forceMaxBindingBytes: 1 << 20 });
      expect(plain.chunks).toBe(1);
      expect(forced.chunks).toBeGreaterThanOrEqual(7);
      expect(forced.ppl).toBe(plain.ppl);
    });
  });
});
