// Backend lifecycle: memory limits, worker cleanup, the single-threaded fallback, input checks,
// and the build script's format table against src/quant's FORMAT_TRAITS.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { liveWorkerCount } from '../../../src/backends/wasm/node-platform.ts';
import { createWasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { dequant, randomF32, randomTensor, refMatmul, relErr, rng, roundActs } from './helpers.ts';

const MiB = 1024 * 1024;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

describe('wasm backend lifecycle', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('the build table mirrors FORMAT_TRAITS', async () => {
    const { FORMATS } = await import(pathToFileURL(path.join(root, 'scripts/build-wasm.mjs')).href);
    const table = (FORMATS as { type: number; id: string; blockSize: number; typeSize: number }[])
      .map(({ type, id, blockSize, typeSize }) => ({ type, id, blockSize, typeSize }));
    const traits = [...FORMAT_TRAITS.values()].map(({ type, id, blockSize, typeSize }) => ({ type, id, blockSize, typeSize }));
    expect(table.sort((a, b) => a.type - b.type)).toEqual(traits.sort((a, b) => a.type - b.type));
  });

  it('throws OUT_OF_MEMORY past maxMemoryBytes, naming need and limit', async () => {
    const b = await createWasmBackend({ threads: 1, maxMemoryBytes: 4 * MiB });
    try {
      b.alloc(MiB / 4); // 1 MiB fits
      expect(() => b.uploadWeight('big', GGMLType.F32, 1024, 1024, new Uint8Array(4 * MiB)))
        .toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/needs 5\.\d MiB .* limit is 4\.0 MiB/) }));
      expect(b.memoryBytes()).toBeLessThanOrEqual(4 * MiB);
    } finally {
      b.dispose();
    }
  });

  it('throws OUT_OF_MEMORY for a KV cache beyond wasm32\'s 4 GiB without allocating it', async () => {
    const b = await createWasmBackend({ threads: 1 });
    try {
      expect(() => b.createKVCache({ nLayers: 32, nCtx: 32768, kvDim: 1024, type: 'f32' }))
        .toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', message: expect.stringContaining('4096.0 MiB') }));
      expect(b.memoryBytes()).toBeLessThan(16 * MiB);
    } finally {
      b.dispose();
    }
  });

  it('dispose stops every worker and later ops fail', async () => {
    const before = liveWorkerCount();
    const b = await createWasmBackend({ threads: 3 });
    expect(b.threads).toBe(3);
    expect(liveWorkerCount()).toBe(before + 2);
    b.dispose();
    expect(await waitFor(() => liveWorkerCount() === before, 5000)).toBe(true);
    expect(() => b.add(b.alloc(4), b.alloc(4), 4)).toThrow(expect.objectContaining({ code: 'BACKEND' }));
  });

  it('falls back to one thread without SharedArrayBuffer and still computes (rel err < 1e-5)', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const before = liveWorkerCount();
    const b = await createWasmBackend({ threads: 4, parallelThreshold: 0 });
    vi.unstubAllGlobals();
    try {
      expect(b.threads).toBe(1);
      expect(liveWorkerCount()).toBe(before);
      const t = FORMAT_TRAITS.get(GGMLType.Q4_K)!;
      const r = rng(1);
      const bytes = randomTensor(t, 5, 512, r);
      const w = b.uploadWeight('w', t.type, 512, 5, bytes);
      const xf = randomF32(3 * 512, r);
      const x = b.alloc(xf.length);
      const out = b.alloc(15);
      b.write(x, xf);
      b.matmul(w, x, out, 3);
      expect(relErr(await b.read(out, 0, 15), refMatmul(dequant(t, bytes, 5 * 512), roundActs(xf, 256), 5, 512, 3))).toBeLessThan(1e-5);
    } finally {
      b.dispose();
    }
  });

  it('rejects unsupported types, bad shapes and foreign handles with typed errors', async () => {
    const b = await createWasmBackend({ threads: 1 });
    try {
      expect(() => b.uploadWeight('iq', GGMLType.IQ2_XS, 256, 1, new Uint8Array(74)))
        .toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }));
      expect(() => b.uploadWeight('q', GGMLType.Q4_0, 48, 2, new Uint8Array(36)))
        .toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
      expect(() => b.uploadWeight('q', GGMLType.Q4_0, 64, 2, new Uint8Array(70)))
        .toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
      const w = b.uploadWeight('w', GGMLType.F32, 8, 2, new Uint8Array(64));
      const x = b.alloc(8);
      expect(() => b.matmul(w, x, b.alloc(1), 1)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
      expect(() => b.embed(w, Int32Array.of(2), b.alloc(8))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
      expect(() => b.attention(0, x, x, 0, 1, { nHead: 1, nHeadKV: 1, headDim: 8, scale: 1 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
      b.free(x);
      expect(() => b.free(x)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    } finally {
      b.dispose();
    }
  });
});
