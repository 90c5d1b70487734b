// MLC-LLM folders on the WebGPU backend in headless Chromium: for each scheme, the MLC folder the
// fixture writer makes must give the perplexity of its round-trip HF folder (f32 weights equal to
// the dequantized MLC ones), |Δ ln ppl| ≤ 0.005, as test/formats/mlc.test.ts checks on WASM.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';
import { hfFromGGUF } from '../fixtures/hf-from-gguf.ts';
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

// Llama 3.2's llama3 rope scaling, over an original context of 16 so that it shows (as in
// mlc-families.test.ts): the rope_freqs the MLC path generates run on WebGPU too.
describe('WebGPU: MLC folder with llama3 rope scaling', () => {
  it('q4f16_1: perplexity equals the round-trip weights\' and differs without the scaling', async () => {
    const hf = await hfFromGGUF(fixture('arch', 'dev-llama32.Q8_0.gguf'));
    try {
      const cfg = JSON.parse(readFileSync(path.join(hf.dir, 'config.json'), 'utf8'));
      const src = path.join(hf.dir, 'short-rope');
      mkdirSync(src);
      writeFileSync(path.join(src, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: { ...cfg.rope_scaling, original_max_position_embeddings: 16 } }));
      for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(hf.dir, f), path.join(src, f));
      const dirs = await writeMLCFolder(src, 'q4f16_1', path.join(hf.dir, 'out'), 1 << 20);
      type R = { ppl: number; types: number[] };
      const got = await h.run<R>(PAGE, 'folderPerplexity', 'mlc-llama3', urls(dirs.mlc), sample);
      const ref = await h.run<R>(PAGE, 'folderPerplexity', 'rt-llama3', urls(dirs.roundTrip), sample);
      const f = path.join(dirs.mlc, 'mlc-chat-config.json');
      const c = JSON.parse(readFileSync(f, 'utf8'));
      writeFileSync(f, JSON.stringify({ ...c, model_config: { ...c.model_config, rope_scaling: null } }));
      const plain = await h.run<R>(PAGE, 'folderPerplexity', 'mlc-plain', urls(dirs.mlc), sample);
      const [delta, without] = [ref.ppl, plain.ppl].map((x) => Math.abs(Math.log(got.ppl) - Math.log(x)));
      console.log(`webgpu llama3 rope q4f16_1: MLC ppl ${got.ppl.toFixed(4)} vs round-trip ${ref.ppl.toFixed(4)} (Δln ${delta.toFixed(6)}), without the scaling Δln ${without.toFixed(4)}`);
      expect(got.types).toContain(GGMLType.MLC_Q4F16);
      expect(delta).toBeLessThanOrEqual(0.005);
      expect(without).toBeGreaterThan(0.03);
    } finally { rmSync(hf.dir, { recursive: true, force: true }); }
  }, 180_000);
});

// Gemma 2 (fused qkv_proj, norms stored as w + 1, soft-caps, a 64-token window the text slides past).
// The folder's stand-in tokenizer.json tokenizes both folders alike, which is all this comparison needs.
describe('WebGPU: MLC folder of Gemma 2', () => {
  it('q4f16_1: perplexity equals the round-trip weights\'', async () => {
    const hf = await hfFromGGUF(fixture('arch', 'dev-gemma2.Q8_0.gguf'));
    try {
      const dirs = await writeMLCFolder(hf.dir, 'q4f16_1', path.join(hf.dir, 'out'), 1 << 20);
      type R = { ppl: number; types: number[] };
      const got = await h.run<R>(PAGE, 'folderPerplexity', 'mlc-gemma2', urls(dirs.mlc), sample);
      const ref = await h.run<R>(PAGE, 'folderPerplexity', 'rt-gemma2', urls(dirs.roundTrip), sample);
      const delta = Math.abs(Math.log(got.ppl) - Math.log(ref.ppl));
      console.log(`webgpu gemma2 q4f16_1: MLC ppl ${got.ppl.toFixed(4)} vs round-trip ${ref.ppl.toFixed(4)} (Δln ${delta.toFixed(6)})`);
      expect(got.types).toContain(GGMLType.MLC_Q4F16);
      expect(delta).toBeLessThanOrEqual(0.005);
    } finally { rmSync(hf.dir, { recursive: true, force: true }); }
  }, 180_000);
});
