// The integer matmul path (8-bit activations × weight blocks) for every format that has one, in
// the relaxed-SIMD and the plain-SIMD build, 1 and 2 threads:
//  - exactly the scheme (or, for batches a format's integer kernel leaves to the f32 path, the
//    f32 product): vs f64 math on src/quant's dequantized weights and activations rounded
//    in JS the way llama.cpp rounds them (per-block amax/127), rel err < 1e-5;
//  - the price of the rounding: vs the unrounded f64 product, rel err < 4e-2 (8-bit steps of a
//    block holding a 6× outlier, summed over up to 1024 products).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { dequant, randomF32, randomTensor, refMatmul, relErr, rng, roundActs } from './helpers.ts';

/** Formats with an integer kernel, their activation block (scripts/build-wasm.mjs FORMATS qb), and
 *  whether it also runs batches of more than 3 tokens (else those take the f32 path: INT8_PREFILL
 *  in wasm-backend.ts). */
const INT8: [GGMLType, number, boolean][] = [
  [GGMLType.Q8_0, 32, true], [GGMLType.Q4_0, 32, true], [GGMLType.Q4_1, 32, false], [GGMLType.Q5_0, 32, false],
  [GGMLType.Q5_1, 32, false], [GGMLType.Q2_K, 256, false], [GGMLType.Q3_K, 256, false], [GGMLType.Q4_K, 256, true],
  [GGMLType.Q5_K, 256, true], [GGMLType.Q6_K, 256, true], [GGMLType.IQ4_NL, 32, true], [GGMLType.IQ4_XS, 256, true],
  [GGMLType.MLC_Q4F16, 32, false], [GGMLType.MLC_Q4F32, 32, false],
];

describe.each([
  ['relaxed', 1], ['relaxed', 2], ['plain', 1], ['plain', 2],
] as const)('wasm int8 matmul, %s SIMD, %i thread(s)', (simd, threads) => {
  const relaxed = simd === 'relaxed';
  let b: WasmBackend;
  beforeAll(async () => { b = await createWasmBackend({ threads, relaxedSimd: relaxed, parallelThreshold: 0 }); });
  afterAll(() => b.dispose());

  it('runs the requested build', () => expect(b.simd).toBe(simd));

  it.each(INT8.map(([type, qb, prefill]) => [FORMAT_TRAITS.get(type)!.id, type, qb, prefill] as const))('%s', async (_id, type, qb, prefill) => {
    const t = FORMAT_TRAITS.get(type)!;
    const r = rng(type * 131 + threads + (relaxed ? 7 : 0));
    for (const cols of t.blockSize === 32 ? [32, 160, 1024] : [256, 768]) {
      const rows = 13;
      const bytes = randomTensor(t, rows, cols, r);
      const wf = dequant(t, bytes, rows * cols);
      const w = b.uploadWeight(`w_${t.id}_${cols}`, type, cols, rows, bytes);
      for (const nTokens of [1, 3, 5, 9]) {
        // a few outliers per row, as real activations have
        const xf = randomF32(nTokens * cols, r);
        for (let i = 0; i < xf.length; i += 97) xf[i] *= 6;
        const x = b.alloc(nTokens * cols);
        const out = b.alloc(nTokens * rows);
        b.write(x, xf);
        b.matmul(w, x, out, nTokens);
        const got = await b.read(out, 0, nTokens * rows);
        const what = `${t.id} ${rows}x${cols} nTokens=${nTokens}`;
        const int8 = prefill || nTokens <= 3;
        expect(relErr(got, refMatmul(wf, int8 ? roundActs(xf, qb) : xf, rows, cols, nTokens)), `${what} int8 ${int8}`).toBeLessThan(1e-5);
        expect(relErr(got, refMatmul(wf, xf, rows, cols, nTokens)), what).toBeLessThan(4e-2);
        b.free(x);
        b.free(out);
      }
    }
  });

  // the relaxed build's rowdotq4_q8_0 adds the same products in the same order as the one-token
  // rowdotq_q8_0 (the plain build keeps per-token partial sums, faster there)
  it.runIf(relaxed)('q8_0: a token\'s prefill sums equal its decode sums bit for bit', async () => {
    const t = FORMAT_TRAITS.get(GGMLType.Q8_0)!;
    const r = rng(99 + threads + (relaxed ? 7 : 0));
    const rows = 8, cols = 160, n = 5;
    const w = b.uploadWeight('w_q8_same', GGMLType.Q8_0, cols, rows, randomTensor(t, rows, cols, r));
    const xf = randomF32(n * cols, r);
    const x = b.alloc(n * cols), out = b.alloc(n * rows), x1 = b.alloc(cols), out1 = b.alloc(rows);
    b.write(x, xf);
    b.matmul(w, x, out, n);
    const batch = await b.read(out, 0, n * rows);
    for (let tok = 0; tok < n; tok++) {
      b.write(x1, xf.subarray(tok * cols, (tok + 1) * cols));
      b.matmul(w, x1, out1, 1);
      expect(Array.from(batch.subarray(tok * rows, (tok + 1) * rows)), `token ${tok}`).toEqual(Array.from(await b.read(out1, 0, rows)));
    }
    for (const a of [x, out, x1, out1]) b.free(a);
  });
});
