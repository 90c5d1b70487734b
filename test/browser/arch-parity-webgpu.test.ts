// Every architecture fixture on the WebGPU backend, as a user runs it: `cli perplexity --browser
// --backend webgpu` (headless Chromium, WGSL kernels) against llama.cpp's perplexity.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runInBrowser } from '../../src/cli/browser-runner.ts';
import { archCases } from '../engine/arch-cases.ts';

afterEach(() => vi.restoreAllMocks());

async function perplexity(model: string, text: string): Promise<{ ppl: number; nTokens: number }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  const code = await runInBrowser(['perplexity', '--model', model, '--file', text, '--json', '--backend', 'webgpu', '--browser']);
  vi.restoreAllMocks();
  expect(code, err.join('')).toBe(0);
  return JSON.parse(out.join('').trim().split('\n').pop()!);
}

describe('cli perplexity --browser --backend webgpu matches llama.cpp on every architecture fixture', () => {
  it.each(archCases())('%s: |Δ ln ppl| ≤ 0.02', async (key, model, text, ref) => {
    const r = await perplexity(model, text);
    const delta = Math.abs(Math.log(r.ppl) - Math.log(ref.ppl));
    console.log(`webgpu ${key}: ppl ${r.ppl.toFixed(1)} vs llama.cpp ${ref.ppl.toFixed(1)} (Δln ${delta.toFixed(4)})`);
    expect(r.nTokens).toBe(ref.nTokens);
    expect(delta).toBeLessThanOrEqual(0.02);
  }, 300_000);
});
