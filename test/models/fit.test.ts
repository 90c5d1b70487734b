// Verdicts from the header alone: a Llama-3-8B Q4_K_M tensor table (no data) against 4 and 8 GiB
// devices on each backend, the fits-with-ctx boundary, does-not-fit's "needs A, has B", and the
// download and import refusals that a does-not-fit verdict causes.
import { describe, expect, it } from 'vitest';
import { WASM32_MAX_BYTES } from '../../src/backends/wasm/heap.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { fitModel, fitOnDevice, refuseIfTooLarge, type DeviceBudget } from '../../src/models/fit.ts';
import { estimateWasm, estimateWebGPU } from '../../src/models/memory.ts';
import { checkModelSupport } from '../../src/models/support.ts';
import { fixture } from '../fixtures.ts';
import { LLAMA3_8B, llama3_8bHeader } from './llama3-8b-header.ts';

const GiB = 2 ** 30;
// a board's GPU: 128 MiB bindings (Mali), 1 GiB buffers
const gpu = (memoryBytes: number): DeviceBudget => ({ memoryBytes, maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: GiB });

describe('Llama-3-8B Q4_K_M from its tensor table', async () => {
  const { file, source } = await llama3_8bHeader('Q4_K_M');
  const { h, arch } = checkModelSupport(file);

  it('reads only the header, and sizes the weights as the file holds them', () => {
    // the reader grows its read to at most twice the header; the 4.9 GB of tensor data is never touched
    expect(source.maxEnd).toBeLessThanOrEqual(2 * source.headerBytes);
    expect(source.size).toBeGreaterThan(4.9e9); // the published Q4_K_M file is 4.92 GB
    const e = estimateWebGPU(file, h, arch, { nCtx: 4096, kvType: 'f16', bindingLimit: 128 * 2 ** 20 });
    const dataStart = file.tensors[0].offset;
    expect(e.weightsBytes).toBe(source.size - dataStart); // every tensor's bytes, nothing else (no padding at 4-byte multiples)
    // K and V: 32 layers × 4096 positions × 8 heads × 128 × 2 bytes
    expect(e.kvBytes).toBe(2 * 32 * 4096 * 1024 * 2);
    expect(estimateWasm(file, h, arch, { nCtx: 4096, kvType: 'f16' }).kvBytes).toBe(e.kvBytes);
  });

  it('4 GiB: needs streaming on either backend (4.6 GiB of weights)', () => {
    for (const backend of ['wasm', 'webgpu'] as const) {
      const r = fitModel(file, h, arch, gpu(4 * GiB), { backend, nCtx: 4096 });
      expect(r.verdict, backend).toBe('needs-streaming');
      expect(r.maxCtx).toBe(0);
      const s = r.streaming!;
      expect(s.nLayers).toBe(LLAMA3_8B.nLayers);
      expect(s.residentLayers).toBeGreaterThan(0);
      expect(s.residentLayers).toBeLessThan(32);
      expect(s.heldWeightBytes).toBeLessThanOrEqual(4 * GiB);
      expect(s.decodeTokensPerSec).toBeCloseTo(s.assumedReadBytesPerSec / s.streamedBytesPerToken, 10);
    }
  });

  it('8 GiB: fits on WebGPU; on WASM the 4 GiB wasm32 heap still needs streaming', () => {
    const g = fitModel(file, h, arch, gpu(8 * GiB), { backend: 'webgpu', nCtx: 4096 });
    expect(g.verdict).toBe('fits');
    expect(g.maxCtx).toBe(LLAMA3_8B.ctx); // even its full 8k context fits
    expect(g.totalBytes).toBeGreaterThan(5 * GiB);
    const w = fitModel(file, h, arch, { memoryBytes: 8 * GiB }, { backend: 'wasm', nCtx: 4096 });
    expect(w).toMatchObject({ verdict: 'needs-streaming', limitedBy: 'wasm32', budgetBytes: WASM32_MAX_BYTES });
    // more memory than the 4 GiB device: more layers can stay (the host keeps the tokenizer and loading buffer)
    expect(w.streaming!.residentLayers).toBeGreaterThan(fitModel(file, h, arch, { memoryBytes: 4 * GiB }, { backend: 'wasm', nCtx: 4096 }).streaming!.residentLayers);
    // the device as a whole: WebGPU's verdict wins
    expect(fitOnDevice(file, h, arch, { budget: gpu(8 * GiB), backends: ['webgpu', 'wasm'], nCtx: 4096 }).backend).toBe('webgpu');
  });

  it('1 GiB: does not fit, saying what it needs and what there is', () => {
    const r = fitModel(file, h, arch, { memoryBytes: GiB }, { backend: 'wasm', nCtx: 4096 });
    expect(r.verdict).toBe('does-not-fit');
    expect(r.hasBytes).toBe(GiB);
    expect(r.needsBytes!).toBeGreaterThan(GiB);
    expect(r.message).toMatch(/needs [\d.]+ GiB even with layer streaming at a context of 4096, has 1\.00 GiB/);
    expect(() => refuseIfTooLarge(r, 'llama3-8b.gguf')).toThrow(expect.objectContaining({ code: 'DOES_NOT_FIT' }));
  });

  it('5.6 GiB on WebGPU at the full 8k context: fits with a shorter one, and that one is the largest', () => {
    const budget = gpu(5.6 * GiB);
    const r = fitModel(file, h, arch, budget, { backend: 'webgpu', nCtx: 8192 });
    expect(r.verdict).toBe('fits-with-ctx');
    expect(r.maxCtx).toBeGreaterThan(512);
    expect(r.maxCtx).toBeLessThan(8192);
    const total = (nCtx: number) => estimateWebGPU(file, h, arch, { nCtx, kvType: 'f16', bindingLimit: 128 * 2 ** 20 }).totalBytes;
    expect(total(r.maxCtx)).toBeLessThanOrEqual(budget.memoryBytes);
    expect(total(r.maxCtx + 1)).toBeGreaterThan(budget.memoryBytes);
  });

  it('a q8_0 KV cache is 34/64 of f16', () => {
    const kv = (t: 'f16' | 'q8_0') => estimateWasm(file, h, arch, { nCtx: 4096, kvType: t }).kvBytes;
    expect(kv('q8_0') / kv('f16')).toBe(34 / 64);
  });
});

describe('fit on a fixture', () => {
  it('fits-with-ctx boundary on WASM: maxCtx fits, maxCtx + 1 does not', async () => {
    const file = await openGGUF(await openNodeFiles(fixture('arch', 'dev-llama32.Q8_0.gguf')));
    await file.close();
    const { h, arch } = checkModelSupport(file);
    const memoryBytes = 100 * 2 ** 20;
    const r = fitModel(file, h, arch, { memoryBytes }, { backend: 'wasm', nCtx: 131072, threads: 2 });
    expect(r.verdict).toBe('fits-with-ctx');
    const total = (nCtx: number) => estimateWasm(file, h, arch, { nCtx, kvType: 'f16', threads: 2 }).totalBytes;
    expect(total(r.maxCtx)).toBeLessThanOrEqual(memoryBytes);
    expect(total(r.maxCtx + 1)).toBeGreaterThan(memoryBytes);
    expect(fitModel(file, h, arch, { memoryBytes: GiB }, { backend: 'wasm', nCtx: 2048 }).verdict).toBe('fits');
    expect(fitModel(file, h, arch, { memoryBytes: 2 ** 20 }, { backend: 'wasm', nCtx: 2048 }).verdict).toBe('does-not-fit');
  });
});

describe('GPU buffer limits', () => {
  it('a KV layer above the binding limit at the asked context: a shorter context; none at all: does not fit, naming the buffer', async () => {
    const file = await openGGUF(await openNodeFiles(fixture('arch', 'dev-llama32.Q8_0.gguf')));
    await file.close();
    const { h, arch } = checkModelSupport(file);
    const kvRow = h.nHeadKV * h.headDim * 2; // f16
    const budget = { memoryBytes: 4 * GiB, maxStorageBufferBindingSize: 64 * 2 ** 20, maxBufferSize: GiB };
    // one layer's K at 2^21 positions of 64 bytes (2 KV heads × 16 × f16) is 128 MiB: above the 64 MiB binding
    const r = fitModel(file, h, arch, budget, { backend: 'webgpu', nCtx: 2 ** 21 });
    expect(r).toMatchObject({ verdict: 'fits-with-ctx', limitedBy: 'gpu-buffer', maxCtx: Math.floor(64 * 2 ** 20 / kvRow) });
    // 64 tokens of a 128k-vocabulary's logits (32 MiB) cannot be one 1 MiB binding at any context
    const tiny = fitModel(file, h, arch, { ...budget, maxStorageBufferBindingSize: 2 ** 20 }, { backend: 'webgpu', nCtx: 2048 });
    expect(tiny).toMatchObject({ verdict: 'does-not-fit', hasBytes: 2 ** 20 });
    expect(tiny.message).toMatch(/needs a GPU buffer of [\d.]+ MiB, has 1\.0 MiB/);
  });
});
