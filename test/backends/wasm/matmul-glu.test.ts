// The fused feed-forward op (matmulGlu: gate and up matmuls and the glu in one pass) against the
// unfused path on the same backend (two int8 matmuls, then glu): bit-identical for every format
// with an integer kernel, decode and prefill batches (four-token tiles and their tail), silu and
// GELU, 1 and 2 threads; and the pairs it must leave to gatedMatmul.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { randomF32, randomTensor, rng } from './helpers.ts';

const FORMATS = [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_NL, GGMLType.IQ4_XS];

describe.each([1, 2])('wasm matmulGlu, %i thread(s)', (threads) => {
  let b: WasmBackend;
  beforeAll(async () => { b = await createWasmBackend({ threads, parallelThreshold: 0 }); });
  afterAll(() => b.dispose());

  it.each(FORMATS.map((type) => [FORMAT_TRAITS.get(type)!.id, type] as const))('%s', async (_id, type) => {
    const t = FORMAT_TRAITS.get(type)!;
    const r = rng(type * 17 + threads);
    const cols = t.blockSize === 32 ? 160 : 512;
    const rows = 137; // two runs of 64 rows and a tail
    const gate = b.uploadWeight('gate', type, cols, rows, randomTensor(t, rows, cols, r));
    const up = b.uploadWeight('up', type, cols, rows, randomTensor(t, rows, cols, r));
    for (const nTokens of [1, 3, 6, 64, 65]) {
      const x = b.alloc(nTokens * cols);
      b.write(x, randomF32(nTokens * cols, r));
      for (const act of ['silu', 'gelu_tanh'] as const) {
        const fused = b.alloc(nTokens * rows);
        const g = b.alloc(nTokens * rows);
        const u = b.alloc(nTokens * rows);
        const done = b.matmulGlu!(gate, up, x, fused, nTokens, act);
        b.matmul(gate, x, g, nTokens);
        b.matmul(up, x, u, nTokens);
        b.glu(g, u, g, nTokens * rows, act);
        const want = await b.read(g, 0, nTokens * rows);
        if (done) expect(await b.read(fused, 0, nTokens * rows), `${t.id} nTokens=${nTokens} ${act}`).toEqual(want);
        // formats without four-token kernels leave prefill batches to the f32 path, and so to
        // gatedMatmul; past 64 tokens up's products would overflow the scratch
        else expect(nTokens, `${t.id} declined nTokens=${nTokens}`).toBeGreaterThan(3);
        if (nTokens > 64) expect(done, `${t.id} nTokens=${nTokens}`).toBe(false);
        if (nTokens === 1) expect(done, `${t.id} decode`).toBe(true);
        for (const a of [fused, g, u]) b.free(a);
      }
      b.free(x);
    }
  });

  it('declines pairs of two formats or shapes, and the f32 path', () => {
    const r = rng(5);
    const q8 = FORMAT_TRAITS.get(GGMLType.Q8_0)!;
    const q4 = FORMAT_TRAITS.get(GGMLType.Q4_0)!;
    const f32 = FORMAT_TRAITS.get(GGMLType.F32)!;
    const a = b.uploadWeight('a', GGMLType.Q8_0, 64, 8, randomTensor(q8, 8, 64, r));
    const c = b.uploadWeight('c', GGMLType.Q4_0, 64, 8, randomTensor(q4, 8, 64, r));
    const d = b.uploadWeight('d', GGMLType.Q8_0, 64, 4, randomTensor(q8, 4, 64, r));
    const e = b.uploadWeight('e', GGMLType.F32, 64, 8, randomTensor(f32, 8, 64, r));
    const x = b.alloc(64);
    const out = b.alloc(8);
    expect(b.matmulGlu!(a, c, x, out, 1, 'silu')).toBe(false);
    expect(b.matmulGlu!(a, d, x, out, 1, 'silu')).toBe(false);
    expect(b.matmulGlu!(e, e, x, out, 1, 'silu')).toBe(false);
  });
});
