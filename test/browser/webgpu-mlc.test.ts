// MLC-LLM folders on the WebGPU backend in headless Chromium: for each scheme, the MLC folder the
// fixture writer makes must give the perplexity of its round-trip HF folder (f32 weights equal to
// the dequantized MLC ones), |Δ ln ppl| ≤ 0.005, as test/formats/mlc.test.ts checks on WASM.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';
import { writeMLCFolder, type MLCScheme } from '../fixtures/mlc-writer.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

const PAGE = 'test/browser/pages/mlc-page.ts';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlc-webgpu-'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const story = /> (Once upon a time, there was a little girl named Lily\..*?so she)\n/s
  .exec(readFileSync(fixture('models', 'README.md'), 'utf8'))![1].replace(/\\n/g, '\n');
const BLOCK: Record<MLCScheme, number> = { q4f16_1: GGMLType.MLC_Q4F16, q4f32_1: GGMLType.MLC_Q4F32, q0f16: GGMLType.F16, q0f32: GGMLType.F32 };

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
afterAll(async () => { await h?.close(); rmSync(tmp, { recursive: true, force: true }); });

const urls = (dir: string) => Object.fromEntries(readdirSync(dir).map((n) => [n, h.fileUrl(path.join(dir, n))]));

describe.each([
  ['dev-hf-mistral', fixture('arch', 'hf', 'dev-hf-mistral'), sample],
  ['TinyStories-656K', fixture('models', 'TinyStories-656K'), story],
] as const)('WebGPU: MLC folders of %s', (name, src, text) => {
  it.each(['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'] as MLCScheme[])('%s: perplexity equals the round-trip weights\' (|Δ ln ppl| ≤ 0.005)', async (scheme) => {
    const dirs = await writeMLCFolder(src, scheme, path.join(tmp, name), 1 << 20);
    type R = { ppl: number; types: number[] };
    const got = await h.run<R>(PAGE, 'folderPerplexity', `mlc-${scheme}`, urls(dirs.mlc), text);
    const ref = await h.run<R>(PAGE, 'folderPerplexity', `rt-${scheme}`, urls(dirs.roundTrip), text);
    const delta = Math.abs(Math.log(got.ppl) - Math.log(ref.ppl));
    console.log(`webgpu ${name} ${scheme}: MLC ppl ${got.ppl.toFixed(4)} vs round-trip ${ref.ppl.toFixed(4)} (Δln ${delta.toFixed(6)})`);
    expect(got.types).toContain(BLOCK[scheme]);
    expect(delta).toBeLessThanOrEqual(0.005);
  }, 120_000);
});
