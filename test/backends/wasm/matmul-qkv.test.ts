// The fused attention projections (matmulQKV: q, k and v in one pool op over one rounded input)
// against three int8 matmuls on the same backend: bit-identical for every format with an integer
// kernel, for kv rows fewer than q's (GQA), decode and prefill batches, 1 and 2 threads; a v of
// another format (Q4_K_M's Q6_K) fuses q and k only; the triples it must leave to qkvMatmul.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { randomF32, randomTensor, rng } from './helpers.ts';

const FORMATS = [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_XS];

describe.each([1, 2])('wasm matmulQKV, %i thread(s)', (threads) => {
  let b: WasmBackend;
  beforeAll(async () => { b = await createWasmBackend({ threads, parallelThreshold: 0 }); });
  afterAll(() => b.dispose());

  const check = async (tq: GGMLType, tv: GGMLType, seed: number) => {
    const t = FORMAT_TRAITS.get(tq)!;
    const r = rng(seed);
    const cols = Math.max(t.blockSize, FORMAT_TRAITS.get(tv)!.blockSize) === 32 ? 160 : 512;
    // q rows not a multiple of the 4-row grain: pieces straddle the q/k and k/v seams
    const rq = 138, rkv = 46;
    const w = (name: string, type: GGMLType, rows: number) =>
      b.uploadWeight(name, type, cols, rows, randomTensor(FORMAT_TRAITS.get(type)!, rows, cols, r));
    const wq = w('wq', tq, rq), wk = w('wk', tq, rkv), wv = w('wv', tv, rkv);
    for (const nTokens of [1, 3, 6, 64]) {
      const x = b.alloc(nTokens * cols);
      b.write(x, randomF32(nTokens * cols, r));
      const fused = [b.alloc(nTokens * rq), b.alloc(nTokens * rkv), b.alloc(nTokens * rkv)];
      const apart = [b.alloc(nTokens * rq), b.alloc(nTokens * rkv), b.alloc(nTokens * rkv)];
      const done = b.matmulQKV!(wq, wk, wv, x, fused[0], fused[1], fused[2], nTokens);
      [wq, wk, wv].forEach((m, i) => b.matmul(m, x, apart[i], nTokens));
      const label = `${t.id}+${FORMAT_TRAITS.get(tv)!.id} nTokens=${nTokens}`;
      if (nTokens === 1) expect(done, `${label} decode`).toBe(true);
      if (done) {
        for (let i = 0; i < 3; i++) {
          const n = nTokens * (i === 0 ? rq : rkv);
          expect(await b.read(fused[i], 0, n), `${label} ${'qkv'[i]}`).toEqual(await b.read(apart[i], 0, n));
        }
      } else {
        // formats without four-token kernels leave prefill batches to the f32 path
        expect(nTokens, `${label} declined`).toBeGreaterThan(3);
      }
      for (const a of [...fused, ...apart, x]) b.free(a);
    }
  };

  it.each(FORMATS.map((type) => [FORMAT_TRAITS.get(type)!.id, type] as const))('%s', (_id, type) => check(type, type, type * 31 + threads));
  it('Q4_K with a Q6_K v (Q4_K_M)', () => check(GGMLType.Q4_K, GGMLType.Q6_K, 7 + threads));

  it('declines q and k of two formats, widths that differ, and the f32 path', () => {
    const r = rng(5);
    const up = (name: string, type: GGMLType, cols: number, rows: number) =>
      b.uploadWeight(name, type, cols, rows, randomTensor(FORMAT_TRAITS.get(type)!, rows, cols, r));
    const a = up('a', GGMLType.Q8_0, 64, 8), c = up('c', GGMLType.Q4_0, 64, 8), d = up('d', GGMLType.Q8_0, 96, 8);
    const e = up('e', GGMLType.F32, 64, 8);
    const x = b.alloc(96), q = b.alloc(8), k = b.alloc(8), v = b.alloc(8);
    expect(b.matmulQKV!(a, c, a, x, q, k, v, 1)).toBe(false);
    expect(b.matmulQKV!(a, a, d, x, q, k, v, 1)).toBe(false);
    expect(b.matmulQKV!(e, e, e, x, q, k, v, 1)).toBe(false);
  });

  it('fuse: false declines (cli --no-fuse), the fused glu too', async () => {
    const off = await createWasmBackend({ threads, fuse: false });
    try {
      const r = rng(9);
      const a = off.uploadWeight('a', GGMLType.Q8_0, 64, 8, randomTensor(FORMAT_TRAITS.get(GGMLType.Q8_0)!, 8, 64, r));
      const x = off.alloc(64), q = off.alloc(8), k = off.alloc(8), v = off.alloc(8);
      expect(off.matmulQKV!(a, a, a, x, q, k, v, 1)).toBe(false);
      expect(off.matmulGlu!(a, a, x, q, 1, 'silu')).toBe(false);
    } finally {
      off.dispose();
    }
  });
});
