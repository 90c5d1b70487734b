// The memory pre-flight against what the WASM backend really allocates: every fixture model is
// sized from its header, then loaded and run (a prompt longer than one batch, then decoding), and
// the backend's own figures — its heap's highest end and its WebAssembly.Memory size, the bench's
// peakMemoryBytes — are compared with the prediction.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { int8MaxTokens, q8RowBytes, WASM_CHUNK, WASM_INT8, WASM_STATIC_BYTES } from '../../src/backends/wasm/sizing.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { estimateWasm } from '../../src/models/memory.ts';
import { checkModelSupport } from '../../src/models/support.ts';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { fixture } from '../fixtures.ts';

const MODELS = [
  ['models', 'stories260K.gguf'], ['models', 'llama-2-tiny-random.gguf'],
  ...['Q2_K', 'Q3_K_M', 'Q4_0', 'Q4_1', 'Q4_K_M', 'Q5_0', 'Q5_1', 'Q5_K_M', 'Q6_K', 'Q8_0', 'F16', 'BF16', 'f32']
    .map((t) => ['quant', `dev-llama.${t}.gguf`]),
  ['quant', 'dev-qwen2-tied.Q4_K_M.gguf'], ['quant', 'dev-gpt2vocab.Q4_0.gguf'],
  ...['gemma2.Q8_0', 'gemma3.Q8_0', 'llama32.Q8_0', 'phi3.Q8_0', 'qwen3.Q8_0', 'smollm3.Q8_0', 'llama.IQ4_NL', 'llama.IQ4_XS']
    .map((t) => ['arch', `dev-${t}.gguf`]),
];

async function header(path: string) {
  const file = await openGGUF(await openNodeFiles(path));
  await file.close();
  return { file, ...checkModelSupport(file) };
}

describe('WASM sizing mirrors the built kernels', () => {
  it('activation blocks, tiles, row preps, CHUNK, q8 row bytes and static data match the module', async () => {
    const wasm = readFileSync(new URL('../../src/backends/wasm/build/kernels-st.wasm', import.meta.url));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const x = (await WebAssembly.instantiate(wasm, { env: { memory } })).instance.exports as Record<string, unknown>;
    const g = (n: string) => (x[n] as WebAssembly.Global).value as number;
    for (const t of FORMAT_TRAITS.values()) {
      const f = WASM_INT8[t.id];
      expect(f === undefined, t.id).toBe(x[`QB_${t.id}`] === undefined);
      if (f) expect({ qb: g(`QB_${t.id}`), tiles: g(`QT_${t.id}`) !== 0, ...(g(`QP_${t.id}`) ? { prep: true } : {}) }, t.id).toEqual(f);
    }
    expect(g('CHUNK')).toBe(WASM_CHUNK);
    expect((x.heapBase as () => number)()).toBeLessThanOrEqual(WASM_STATIC_BYTES);
    const rowBytes = x.q8RowBytes as (c: number, qb: number) => number;
    for (const [c, qb] of [[64, 32], [4096, 256], [14336, 256], [288, 32]]) expect(q8RowBytes(c, qb)).toBe(rowBytes(c, qb));
    expect([int8MaxTokens(true), int8MaxTokens(false)]).toEqual([Infinity, 3]);
  });
});

describe('predicted WASM memory against the measured peak', () => {
  const rows: string[] = [];
  it.each(MODELS)('%s/%s', async (...parts) => {
    const path = fixture(...parts);
    const { file, h, arch } = await header(path);
    const nCtx = 512, threads = 2;
    const backend = await createWasmBackend({ threads });
    const model = await loadModel(await openNodeFiles(path), backend, { nCtx, kvType: 'f16' });
    try {
      const e = estimateWasm(file, h, arch, { nCtx, kvType: 'f16', threads, heapBase: backend.heapExtent().base });
      // loaded: weights, scratch activations, KV cache and per-thread scratch, to the byte
      expect(backend.heapExtent().peakTop).toBe(e.heapTopLoaded);
      // a prompt of more than one batch (64 + 36 tokens), then four decoded tokens
      const prompt = Array.from({ length: 100 }, (_, i) => (i * 7919 + 3) % h.vocabSize);
      for await (const ev of new Session(model).generate(prompt, { maxTokens: 4, sampling: { temperature: 0 } })) void ev;
      const measured = backend.memoryBytes();
      rows.push(`${parts[1].padEnd(28)} predicted ${e.backendBytes} measured ${measured} (${((e.backendBytes / measured - 1) * 100).toFixed(2)}%)`);
      // the prediction is the worst case of any run (it also counts a 2–3 token tail on the
      // integer kernels without four-token tiles), so it may only be above the measurement
      expect(e.heapTop!).toBeGreaterThanOrEqual(backend.heapExtent().peakTop);
      expect(e.backendBytes).toBeGreaterThanOrEqual(measured);
      expect(e.backendBytes).toBeLessThanOrEqual(measured * 1.1);
      expect(e.weightsBytes + e.kvBytes + e.scratchBytes).toBe(e.backendBytes);
    } finally {
      await model.dispose();
    }
  });
  it('report', () => console.log(rows.join('\n')));

  it('the KV cache is counted exactly: two contexts differ by the predicted KV bytes', async () => {
    const path = fixture('arch', 'dev-gemma3.Q8_0.gguf');
    const { file, h, arch } = await header(path);
    const tops: number[] = [];
    const kv: number[] = [];
    for (const nCtx of [256, 1024]) {
      const backend = await createWasmBackend({ threads: 1 });
      const m = await loadModel(await openNodeFiles(path), backend, { nCtx, kvType: 'f32' });
      tops.push(backend.heapExtent().peakTop);
      kv.push(estimateWasm(file, h, arch, { nCtx, kvType: 'f32', threads: 1 }).kvBytes);
      await m.dispose();
    }
    expect(tops[1] - tops[0]).toBe(kv[1] - kv[0]);
    // this gemma3 slides over 64 positions on 5 of its 6 layers: their rings hold window + batch − 1
    // = 127 positions at either context, so only the one global layer grows (K and V, f32)
    const kvDim = h.nHeadKV * h.headDim;
    expect(kv[1] - kv[0]).toBe(2 * 4 * kvDim * (1024 - 256));
  });
});
