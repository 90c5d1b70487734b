// Family features the fixtures do not exercise, checked against llama.cpp itself (node-llama-cpp,
// CPU) on variants of the fixture files written to a temp dir: Phi-3 longrope (long/short factor
// tensors picked by context length, attention factor, partial rotary dims as Phi-4-mini has),
// Gemma 3 with linear rope scaling on its global layers (Gemma-3-4B's factor 8) and a per-layer
// sliding-window pattern key, Gemma 2 with a stated window. Both engines read the same bytes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LlamaLogLevel, getLlama, type ControlledEvaluateInputItem, type Llama, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { ValueType } from '../../src/formats/gguf/constants.ts';
import type { GGUFValue, GGUFValueTypeInfo } from '../../src/formats/gguf/header-parser.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'arch-variants-'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const long = readFileSync(fixture('arch', 'long.txt'), 'utf8');
let llama: Llama;
beforeAll(async () => { llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled }); });
afterAll(async () => {
  await llama?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

type Meta = { key: string; value: GGUFValue; type: GGUFValueTypeInfo };
const u32 = (key: string, value: number): Meta => ({ key, value, type: { type: ValueType.UINT32 } });
const f32 = (key: string, value: number): Meta => ({ key, value, type: { type: ValueType.FLOAT32 } });
const str = (key: string, value: string): Meta => ({ key, value, type: { type: ValueType.STRING } });

/** A copy of a fixture with metadata replaced/added and extra F32 tensors appended. */
async function variant(name: string, src: string, meta: Meta[], extra: { name: string; values: number[] }[] = [],
  dir = fixture('arch')): Promise<string> {
  const f = await openGGUF(await openNodeFile(path.join(dir, src)));
  try {
    const set = new Map(meta.map((m) => [m.key, m]));
    const entries: Meta[] = [...f.metadata].filter(([k]) => !set.has(k))
      .map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
    entries.push(...meta);
    const tensors = [];
    for (const t of f.tensors) tensors.push({ name: t.name, type: t.type, shape: t.shape, byteSize: t.byteSize, data: await f.readTensor(t) });
    for (const e of extra) {
      const data = new Uint8Array(Float32Array.from(e.values).buffer);
      tensors.push({ name: e.name, type: GGMLType.F32, shape: [e.values.length], byteSize: data.length, data });
    }
    const out = path.join(tmp, name);
    writeFileSync(out, writeGGUF(entries, tensors, f.alignment));
    return out;
  } finally {
    await f.close();
  }
}

/**
 * llama.cpp's perplexity of `ids` in one context of nCtx (plain softmax over its probabilities),
 * evaluated 16 tokens at a time so that only 16 vocabulary-sized probability maps live at once.
 */
async function llamaCppPpl(file: string, ids: number[], nCtx: number): Promise<number> {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const ctx = await model.createContext({ contextSize: nCtx, batchSize: 512, threads: 2 });
    const seq = ctx.getSequence();
    let nll = 0;
    for (let start = 0; start < ids.length - 1; start += 16) {
      const slice = ids.slice(start, Math.min(ids.length - 1, start + 16)) as Token[];
      const out = await seq.controlledEvaluate(slice.map((id): ControlledEvaluateInputItem => [id, { generateNext: { probabilities: true } }]));
      slice.forEach((_, i) => { nll -= Math.log(out[i]!.next.probabilities!.get(ids[start + i + 1] as Token)!); });
    }
    await ctx.dispose();
    return Math.exp(nll / (ids.length - 1));
  } finally {
    await model.dispose();
  }
}

interface Compared { ours: number; theirs: number; ids: number[] }

async function compare(file: string, text: string, nCtx: number): Promise<Compared> {
  const m = await loadModel(await openNodeFile(file), await createWasmBackend({ threads: 2 }), { nCtx });
  let ours: number, ids: number[];
  try {
    ids = m.tokenizer.addBos && m.tokenizer.bosId !== null ? [m.tokenizer.bosId, ...m.tokenizer.encode(text)] : m.tokenizer.encode(text);
    ours = (await new Session(m).perplexity(ids)).ppl;
  } finally {
    await m.dispose();
  }
  return { ours, theirs: await llamaCppPpl(file, ids, nCtx), ids };
}

/**
 * Ours within `bound` of llama.cpp, and the feature must matter: llama.cpp without it (`without`,
 * its ppl on the same ids) lands at least 3× our distance away, so ignoring it would fail.
 */
function expectClose(name: string, r: Compared, without: number | undefined, bound = 0.02): void {
  const d = Math.abs(Math.log(r.ours / r.theirs));
  const effect = without === undefined ? NaN : Math.abs(Math.log(r.theirs / without));
  console.log(`${name}: ours ${r.ours.toFixed(1)}, llama.cpp ${r.theirs.toFixed(1)} (Δln ${d.toFixed(4)}; without the feature Δln ${effect.toFixed(4)})`);
  expect(d).toBeLessThanOrEqual(bound);
  if (without !== undefined) expect(effect).toBeGreaterThan(3 * d);
}

describe('Phi-3 longrope (Phi-3.5-mini / Phi-4-mini layout)', () => {
  // partial rotary dims (24 of 32, as Phi-4-mini's 0.75), long/short factor tensors and the
  // attention factor the converter computes for a 128k model trained at 4k
  const nRot = 24;
  const short = Array.from({ length: nRot / 2 }, (_, i) => 1 + 0.05 * i);
  const longF = Array.from({ length: nRot / 2 }, (_, i) => 1 + 3 * i * i);
  const attnFactor = Math.sqrt(1 + Math.log(32) / Math.log(4096));
  let file: string;
  beforeAll(async () => {
    file = await variant('phi3-longrope.gguf', 'dev-phi3.Q8_0.gguf', [
      u32('phi3.context_length', 131072), u32('phi3.rope.scaling.original_context_length', 1024),
      u32('phi3.rope.dimension_count', nRot), f32('phi3.rope.scaling.attn_factor', attnFactor),
      str('phi3.rope.scaling.type', 'longrope'),
    ], [{ name: 'rope_factors_long.weight', values: longF }, { name: 'rope_factors_short.weight', values: short }]);
  });

  it('short factors within the original context, long ones past it', async () => {
    const short = await compare(file, sample, 512);
    const long = await compare(file, sample, 2048);
    expectClose('phi3 longrope, short', short, long.theirs);
    expectClose('phi3 longrope, long', long, short.theirs);
    // and the attention factor: the same file without it
    const plain = await variant('phi3-longrope-noattn.gguf', 'phi3-longrope.gguf', [f32('phi3.rope.scaling.attn_factor', 1)], [], tmp);
    expectClose('phi3 longrope, attention factor', long, await llamaCppPpl(plain, long.ids, 2048));
  });
});

describe('YaRN context extension (Qwen2.5 / Qwen3 long-context files)', () => {
  it('factor 4 over an original context of 512', async () => {
    const file = await variant('qwen3-yarn.gguf', 'dev-qwen3.Q8_0.gguf', [
      str('qwen3.rope.scaling.type', 'yarn'), f32('qwen3.rope.scaling.factor', 4), u32('qwen3.rope.scaling.original_context_length', 512),
    ]);
    const r = await compare(file, sample, 640);
    expectClose('qwen3 yarn 4', r, await llamaCppPpl(fixture('arch', 'dev-qwen3.Q8_0.gguf'), r.ids, 640));
  });
});

// a 262k vocabulary makes llama.cpp's per-token probability maps slow: sample.txt (109 tokens)
describe('Gemma 3 variants', { timeout: 300_000 }, () => {
  it('linear rope scaling (factor 8) on global layers', async () => {
    // no window (every layer global) and a base of 100, so that scaling carries weight
    const base = [f32('gemma3.rope.freq_base', 100), u32('gemma3.attention.sliding_window', 0)];
    const file = await variant('gemma3-linear.gguf', 'dev-gemma3.Q8_0.gguf', [
      ...base, str('gemma3.rope.scaling.type', 'linear'), f32('gemma3.rope.scaling.factor', 8),
    ]);
    const r = await compare(file, sample, 1024);
    expectClose('gemma3 linear 8, all global', r, await llamaCppPpl(await variant('gemma3-base100.gguf', 'dev-gemma3.Q8_0.gguf', base), r.ids, 1024));
  });

  it('linear rope scaling with the 5:1 pattern: the sliding layers keep their own base, unscaled', async () => {
    const file = await variant('gemma3-linear-swa.gguf', 'dev-gemma3.Q8_0.gguf', [
      str('gemma3.rope.scaling.type', 'linear'), f32('gemma3.rope.scaling.factor', 8),
    ]);
    const r = await compare(file, sample, 1024);
    expectClose('gemma3 linear 8, 5:1', r, undefined);
  });

  it('a per-layer sliding-window pattern from the file instead of the 5:1 default', async () => {
    const pattern = [true, false, true, true, false, false];
    const window = [u32('gemma3.attention.sliding_window', 8)];
    const file = await variant('gemma3-pattern.gguf', 'dev-gemma3.Q8_0.gguf', [
      { key: 'gemma3.attention.sliding_window_pattern', value: pattern, type: { type: ValueType.ARRAY, elemType: ValueType.BOOL } },
      ...window,
    ]);
    const r = await compare(file, sample, 1024);
    expectClose('gemma3 pattern', r, await llamaCppPpl(await variant('gemma3-window8.gguf', 'dev-gemma3.Q8_0.gguf', window), r.ids, 1024));
  });
});

describe('Gemma 2 variants', () => {
  it('a window of 16 with its own rope base on the sliding layers', async () => {
    const file = await variant('gemma2-window.gguf', 'dev-gemma2.Q8_0.gguf', [
      u32('gemma2.attention.sliding_window', 16), f32('gemma2.rope.freq_base_swa', 500),
    ]);
    const r = await compare(file, long, 640);
    expectClose('gemma2 window 16', r, await llamaCppPpl(fixture('arch', 'dev-gemma2.Q8_0.gguf'), r.ids, 640));
  });
});
