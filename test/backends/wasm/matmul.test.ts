// matmul (f32 path) and embed for every block format vs src/quant's scalar dequant + naive f64 math,
// on odd shapes, nTokens 1/7/33, single-threaded and with a 2-thread pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { ALL_FORMATS, dequant, randomF32, randomTensor, refMatmul, relErr, rng } from './helpers.ts';

/** Column counts per block size: several blocks, not a multiple of the 4-wide SIMD or 4096 chunk where allowed. */
const COLS: Record<number, number[]> = { 1: [7, 69, 4101], 32: [32, 160], 256: [256, 768] };
const ROWS = [1, 13, 37];
const TOKENS = [1, 7, 33];

describe.each([1, 2])('wasm matmul/embed, %i thread(s)', (threads) => {
  let b: WasmBackend;
  // parallelThreshold 0: every op is split across the pool even when tiny; int8Matmul false keeps
  // every format on the f32 path (the integer path has its own tests in matmul-int8.test.ts)
  beforeAll(async () => { b = await createWasmBackend({ threads, parallelThreshold: 0, int8Matmul: false }); });
  afterAll(() => b.dispose());

  it('reports its thread count', () => expect(b.threads).toBe(threads));

  it.each(ALL_FORMATS.map((t) => [t.id, t] as const))('%s matmul matches the dequantized reference (rel err < 1e-5)', async (_id, t) => {
    const r = rng(t.type * 7919 + threads);
    for (const cols of COLS[t.blockSize]) {
      const rows = ROWS[(cols + t.type) % ROWS.length];
      const bytes = randomTensor(t, rows, cols, r);
      const wf = dequant(t, bytes, rows * cols);
      const w = b.uploadWeight(`w_${t.id}_${cols}`, t.type, cols, rows, bytes);
      for (const nTokens of cols > 4000 ? [1, 7] : TOKENS) {
        const xf = randomF32(nTokens * cols, r);
        const x = b.alloc(nTokens * cols);
        const out = b.alloc(nTokens * rows);
        b.write(x, xf);
        b.matmul(w, x, out, nTokens);
        const got = await b.read(out, 0, nTokens * rows);
        const err = relErr(got, refMatmul(wf, xf, rows, cols, nTokens));
        expect(err, `${t.id} ${rows}x${cols} nTokens=${nTokens}`).toBeLessThan(1e-5);
        b.free(x);
        b.free(out);
      }
    }
  });

  it.each(ALL_FORMATS.map((t) => [t.id, t] as const))('%s embed returns the dequantized rows (rel err < 1e-6)', async (_id, t) => {
    const r = rng(t.type * 31 + threads);
    const cols = t.blockSize === 1 ? 37 : t.blockSize * 2;
    const rows = 11;
    const bytes = randomTensor(t, rows, cols, r);
    const wf = dequant(t, bytes, rows * cols);
    const table = b.uploadWeight(`emb_${t.id}`, t.type, cols, rows, bytes);
    const ids = Int32Array.from([3, 0, 10, 3, 7]);
    const out = b.alloc(ids.length * cols);
    b.embed(table, ids, out);
    const got = await b.read(out, 0, ids.length * cols);
    const want = new Float32Array(ids.length * cols);
    ids.forEach((id, i) => want.set(wf.subarray(id * cols, (id + 1) * cols), i * cols));
    expect(relErr(got, want)).toBeLessThan(1e-6);
    b.free(out);
  });
});
