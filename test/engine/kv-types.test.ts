// Perplexity with each KV cache type against llama.cpp (node-llama-cpp, CPU) run with the SAME
// cache type: f16 (llama.cpp's default, no flash attention) and q8_0 (as -ctk/-ctv q8_0, which
// llama.cpp runs only with flash attention). Fixtures: Qwen3, Gemma 3 (five sliding-window layers,
// over a text longer than the window) and a Gemma 2 variant with one outlier channel per K/V head,
// where q8_0's rounding moves perplexity well past the engines' other differences, so a cache
// that ignored the type (or rounded differently) would show.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LlamaLogLevel, getLlama, type ControlledEvaluateInputItem, type Llama, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KVType } from '../../src/backends/kv-layout.ts';
import { runInBrowser } from '../../src/cli/browser-runner.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';
import { writeOutlierVariant } from './kv-outlier-variant.ts';

const N_CTX = 512;
const BOUND = 0.02;
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const tmp = mkdtempSync(path.join(tmpdir(), 'kv-types-'));
let llama: Llama;
beforeAll(async () => { llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled }); });
afterAll(async () => {
  await llama?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** Our ln ppl of `text` with a `kvType` cache, and the ids it ran (BOS where the vocabulary adds one). */
async function ours(file: string, kvType: KVType): Promise<{ lnPpl: number; ids: number[] }> {
  const m = await loadModel(await openNodeFile(file), await createWasmBackend({ threads: 2 }), { nCtx: N_CTX, kvType });
  try {
    const t = m.tokenizer;
    const ids = t.addBos && t.bosId !== null ? [t.bosId, ...t.encode(sample)] : t.encode(sample);
    return { lnPpl: Math.log((await new Session(m).perplexity(ids)).ppl), ids };
  } finally {
    await m.dispose();
  }
}

/** llama.cpp's ln ppl of ids with a K and V cache of `type`, from its token probabilities, 16 tokens a slice. */
async function theirs(file: string, ids: number[], type: 'F16' | 'Q8_0'): Promise<number> {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const ctx = await model.createContext({ contextSize: N_CTX, batchSize: 512, threads: 2, flashAttention: type === 'Q8_0',
      experimentalKvCacheKeyType: type, experimentalKvCacheValueType: type });
    const seq = ctx.getSequence();
    let nll = 0;
    for (let start = 0; start < ids.length - 1; start += 16) {
      const slice = ids.slice(start, Math.min(ids.length - 1, start + 16)) as Token[];
      const out = await seq.controlledEvaluate(slice.map((id): ControlledEvaluateInputItem => [id, { generateNext: { probabilities: true } }]));
      slice.forEach((_, i) => { nll -= Math.log(out[i]!.next.probabilities!.get(ids[start + i + 1] as Token)!); });
    }
    await ctx.dispose();
    return nll / (ids.length - 1);
  } finally {
    await model.dispose();
  }
}

interface Measured { ours: Record<KVType, number>; llama: { f16: number; q8_0: number } }

async function measure(file: string, withF32 = false): Promise<Measured> {
  const f16 = await ours(file, 'f16');
  const q8 = await ours(file, 'q8_0');
  const f32 = withF32 ? (await ours(file, 'f32')).lnPpl : NaN;
  const r = { ours: { f32, f16: f16.lnPpl, q8_0: q8.lnPpl },
    llama: { f16: await theirs(file, f16.ids, 'F16'), q8_0: await theirs(file, f16.ids, 'Q8_0') } };
  measured.set(file, r);
  const d = (a: number, b: number) => Math.abs(a - b).toFixed(5);
  console.log(`${path.basename(file)}: ln ppl ours f32 ${f32.toFixed(5)} f16 ${r.ours.f16.toFixed(5)} q8_0 ${r.ours.q8_0.toFixed(5)}; ` +
    `llama.cpp f16 ${r.llama.f16.toFixed(5)} q8_0 ${r.llama.q8_0.toFixed(5)}; |Δ| f16 ${d(r.ours.f16, r.llama.f16)}, q8_0 ${d(r.ours.q8_0, r.llama.q8_0)}`);
  return r;
}

/** llama.cpp's figures per file, measured once for both backends' checks */
const measured = new Map<string, Measured>();
const outlierFile = path.join(tmp, 'gemma2-outliers.gguf');
const files = [fixture('arch', 'dev-qwen3.Q8_0.gguf'), fixture('arch', 'dev-gemma3.Q8_0.gguf'), outlierFile];
const writeOutliers = () => writeOutlierVariant(fixture('arch', 'dev-gemma2.Q8_0.gguf'), outlierFile, 32, 3, 256);

function expectMatch(r: Measured): void {
  expect(Math.abs(r.ours.f16 - r.llama.f16), 'f16').toBeLessThanOrEqual(BOUND);
  expect(Math.abs(r.ours.q8_0 - r.llama.q8_0), 'q8_0').toBeLessThanOrEqual(BOUND);
}

describe('KV cache types: perplexity matches llama.cpp with the same cache type (WASM)', { timeout: 600_000 }, () => {
  it('Qwen3', async () => expectMatch(await measure(files[0])));

  it('Gemma 3 (sliding-window layers: window 64 over 109 tokens)', async () => expectMatch(await measure(files[1])));

  it('Gemma 2 with outlier K/V channels: q8_0 moves ppl in both engines alike', async () => {
    await writeOutliers();
    const r = await measure(outlierFile, true);
    expectMatch(r);
    const ourDistance = Math.abs(r.ours.q8_0 - r.llama.q8_0);
    const effect = r.llama.q8_0 - r.llama.f16;
    // the cache type must matter here: llama.cpp's own f16 → q8_0 shift is 3× our distance …
    expect(Math.abs(effect)).toBeGreaterThan(3 * ourDistance);
    // … ours shifts the same way, and our q8_0 is nearer llama.cpp's q8_0 than our f32 or f16
    expect(Math.sign(r.ours.q8_0 - r.ours.f16)).toBe(Math.sign(effect));
    expect(ourDistance).toBeLessThan(Math.abs(r.ours.f32 - r.llama.q8_0));
    expect(ourDistance).toBeLessThan(Math.abs(r.ours.f16 - r.llama.q8_0));
  });
});

/** `cli perplexity --browser --backend webgpu --kv-type …` (WGSL kernels in headless Chromium): ln ppl. */
async function webgpuLnPpl(model: string, kvType: KVType): Promise<number> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((x) => (out.push(String(x)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((x) => (err.push(String(x)), true));
  try {
    const code = await runInBrowser(['perplexity', '--model', model, '--file', fixture('quant', 'sample.txt'), '--json',
      '--ctx', String(N_CTX), '--kv-type', kvType, '--backend', 'webgpu', '--browser']);
    expect(code, err.join('')).toBe(0);
  } finally {
    vi.restoreAllMocks();
  }
  return Math.log(JSON.parse(out.join('').trim().split('\n').pop()!).ppl);
}

describe('KV cache q8_0 on WebGPU: perplexity matches llama.cpp q8_0', { timeout: 600_000 }, () => {
  it.each(files.map((f) => [path.basename(f), f]))('%s', async (_, file) => {
    if (file === outlierFile) await writeOutliers();
    const r = measured.get(file) ?? await measure(file);
    const q8 = await webgpuLnPpl(file, 'q8_0');
    const d = Math.abs(q8 - r.llama.q8_0);
    console.log(`webgpu ${path.basename(file)}: ln ppl q8_0 ${q8.toFixed(5)} vs llama.cpp q8_0 ${r.llama.q8_0.toFixed(5)} (|Δ| ${d.toFixed(5)})`);
    expect(d).toBeLessThanOrEqual(BOUND);
    // where q8_0 matters, the GPU's cache shifts ppl as llama.cpp's does
    if (file === outlierFile) {
      expect(Math.sign(q8 - r.ours.f16)).toBe(Math.sign(r.llama.q8_0 - r.llama.f16));
      expect(d).toBeLessThan(Math.abs(r.ours.f16 - r.llama.q8_0));
    }
  });
});
