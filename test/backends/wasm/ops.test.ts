// Non-matmul ops vs naive f64 JS references, single-threaded and with a 2-thread pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import type { Activation, RopeParams } from '../../../src/backends/backend.ts';
import type { KVType } from '../../../src/backends/kv-layout.ts';
import { f16ToF32, f32ToF16 } from '../../../src/quant/half.ts';
import { q8_0Traits } from '../../../src/quant/q8_0.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { randomF32, relErr, rng } from './helpers.ts';

function refRope(x: Float32Array, nTokens: number, nHeads: number, headDim: number, pos0: number, p: RopeParams): Float64Array {
  const y = Float64Array.from(x);
  const half = p.nRot / 2;
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const theta = (pos0 + t) * p.freqBase ** (-2 * i / p.nRot) / (p.freqFactors?.[i] ?? 1);
        const [a, b] = p.neox ? [base + i, base + i + half] : [base + 2 * i, base + 2 * i + 1];
        const x0 = x[a];
        const x1 = x[b];
        const m = p.attnFactor ?? 1;
        y[a] = (x0 * Math.cos(theta) - x1 * Math.sin(theta)) * m;
        y[b] = (x0 * Math.sin(theta) + x1 * Math.cos(theta)) * m;
      }
    }
  }
  return y;
}

/**
 * Causal GQA attention of q (positions pos0..) over keys/values [pos][kvDim], in f64; a window
 * limits a query at p to keys p − window + 1..p, a cap soft-caps the scaled scores.
 */
export function refAttention(q: Float32Array, K: Float32Array, V: Float32Array, pos0: number, nTokens: number,
  nHead: number, nHeadKV: number, hd: number, scale: number, window = 0, cap = 0): Float64Array {
  const kvDim = nHeadKV * hd;
  const out = new Float64Array(nTokens * nHead * hd);
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nHead; h++) {
      const kh = Math.floor(h / (nHead / nHeadKV));
      const j0 = window > 0 ? Math.max(0, pos0 + t - window + 1) : 0;
      const n = pos0 + t + 1 - j0;
      const s = new Float64Array(n);
      for (let jj = 0; jj < n; jj++) {
        const j = j0 + jj;
        let d = 0;
        for (let i = 0; i < hd; i++) d += q[(t * nHead + h) * hd + i] * K[j * kvDim + kh * hd + i];
        s[jj] = cap > 0 ? cap * Math.tanh((d * scale) / cap) : d * scale;
      }
      const m = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j] - m));
      for (let jj = 0; jj < n; jj++) {
        const j = j0 + jj;
        for (let i = 0; i < hd; i++) out[(t * nHead + h) * hd + i] += (s[jj] / sum) * V[j * kvDim + kh * hd + i];
      }
    }
  }
  return out;
}

const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x)));

const toF16 = (a: Float32Array): Float32Array => a.map((v) => f16ToF32(f32ToF16(v)));

/** What a cache of `type` holds of a: f16-rounded, or q8_0 blocks by the reference quantizer (src/quant). */
export function cached(type: KVType, a: Float32Array): Float32Array {
  if (type === 'f32') return a;
  if (type === 'f16') return toF16(a);
  const nb = a.length / 32;
  const blocks = new Uint8Array(nb * q8_0Traits.typeSize);
  q8_0Traits.quantize!(a, 0, nb, blocks, 0);
  const out = new Float32Array(a.length);
  q8_0Traits.dequantize(blocks, 0, nb, out, 0);
  return out;
}

describe.each([1, 2])('wasm ops, %i thread(s)', (threads) => {
  let b: WasmBackend;
  beforeAll(async () => { b = await createWasmBackend({ threads, parallelThreshold: 0 }); });
  afterAll(() => b.dispose());

  const put = (data: Float32Array): Activation => {
    const a = b.alloc(data.length);
    b.write(a, data);
    return a;
  };
  const get = (a: Activation, n: number) => b.read(a, 0, n);

  it.each([[1, 4096], [7, 77], [33, 5]])('rmsnorm, %i tokens × %i (F32 and F16 weights; rel err < 1e-5)', async (nTokens, width) => {
    const r = rng(nTokens * width);
    const xf = randomF32(nTokens * width, r, 3);
    const wf = randomF32(width, r);
    const wf16 = Uint16Array.from(wf, (v) => f32ToF16(v));
    for (const [type, bytes, wv] of [
      [GGMLType.F32, new Uint8Array(wf.buffer), wf],
      [GGMLType.F16, new Uint8Array(wf16.buffer), Float32Array.from(wf16, f16ToF32)],
    ] as const) {
      const w = b.uploadWeight('norm', type, width, 1, bytes);
      const x = put(xf);
      const out = b.alloc(nTokens * width);
      b.rmsnorm(x, w, out, nTokens, 1e-5);
      const want = new Float64Array(nTokens * width);
      for (let t = 0; t < nTokens; t++) {
        let ss = 0;
        for (let i = 0; i < width; i++) ss += xf[t * width + i] ** 2;
        const s = 1 / Math.sqrt(ss / width + 1e-5);
        for (let i = 0; i < width; i++) want[t * width + i] = xf[t * width + i] * s * wv[i];
      }
      expect(relErr(await get(out, nTokens * width), want)).toBeLessThan(1e-5);
      // in place (out = x) is allowed
      b.rmsnorm(x, w, x, nTokens, 1e-5);
      expect(relErr(await get(x, nTokens * width), want)).toBeLessThan(1e-5);
    }
  });

  it('addBias, add, swiglu, copy on odd lengths (rel err < 1e-6)', async () => {
    const r = rng(5);
    const nTokens = 7;
    const width = 143;
    const n = nTokens * width;
    const xf = randomF32(n, r);
    const bf = randomF32(width, r);
    const x = put(xf);
    b.addBias(x, b.uploadWeight('bias', GGMLType.F32, width, 1, new Uint8Array(bf.buffer)), nTokens);
    expect(relErr(await get(x, n), xf.map((v, i) => v + bf[i % width]))).toBeLessThan(1e-6);

    const yf = randomF32(n, r);
    const y = put(yf);
    const sum = xf.map((v, i) => v + bf[i % width] + yf[i]);
    b.add(x, y, n);
    expect(relErr(await get(x, n), sum)).toBeLessThan(1e-6);

    const gf = randomF32(n, r, 6);
    const g = put(gf);
    const out = b.alloc(n);
    b.glu(g, y, out, n, 'silu');
    expect(relErr(await get(out, n), Array.from(gf, (v, i) => (v / (1 + Math.exp(-v))) * yf[i]))).toBeLessThan(1e-6);
    b.glu(g, y, out, n, 'gelu_tanh');
    expect(relErr(await get(out, n), Array.from(gf, (v, i) => geluTanh(v) * yf[i]))).toBeLessThan(1e-6);

    const sx = put(gf);
    b.scale(sx, n, 8);
    expect(relErr(await get(sx, n), Array.from(gf, (v) => v * 8))).toBeLessThan(1e-6);
    b.softcap(sx, n, 30);
    expect(relErr(await get(sx, n), Array.from(gf, (v) => 30 * Math.tanh((v * 8) / 30)))).toBeLessThan(1e-6);

    b.copy(y, 3 * width, out, 5, width);
    expect(Array.from(await b.read(out, 5, width))).toEqual(Array.from(yf.subarray(3 * width, 4 * width)));
  });

  const ropeCases: [string, number, number, number, RopeParams][] = [
    ['llama pairs', 7, 4, 16, { nRot: 16, freqBase: 10000, neox: false }],
    ['neox, partial nRot', 33, 3, 24, { nRot: 16, freqBase: 1e6, neox: true }],
    ['freqFactors', 1, 5, 8, { nRot: 8, freqBase: 500000, neox: false, freqFactors: Float32Array.from([1, 2, 4, 8]) }],
    ['neox + freqFactors', 7, 2, 12, { nRot: 12, freqBase: 10000, neox: true, freqFactors: Float32Array.from([1, 1, 3, 5, 8, 40]) }],
    ['longrope: factors + attention factor', 5, 2, 16, { nRot: 12, freqBase: 10000, neox: true,
      freqFactors: Float32Array.from([1, 1.2, 2, 5, 9, 30]), attnFactor: 1.19 }],
  ];
  it.each(ropeCases)('rope: %s (rel err < 1e-5)', async (_name, nTokens, nHeads, headDim, p) => {
    const r = rng(nTokens * 100 + headDim);
    const n = nTokens * nHeads * headDim;
    const xf = randomF32(n, r);
    const x = put(xf);
    const pos0 = 1000;
    b.rope(x, nTokens, nHeads, headDim, pos0, p);
    expect(relErr(await get(x, n), refRope(xf, nTokens, nHeads, headDim, pos0, p))).toBeLessThan(1e-5);
  });

  it.each([['f32', 4, 2, 8], ['f16', 6, 2, 12], ['f32', 3, 3, 6], ['f16', 4, 1, 5], ['q8_0', 4, 2, 32], ['q8_0', 6, 3, 64]] as const)(
    'storeKV + attention, %s cache, %i heads / %i kv heads × %i (rel err < 1e-5)', async (type, nHead, nHeadKV, hd) => {
      const r = rng(nHead * 10 + hd);
      const kvDim = nHeadKV * hd;
      const nCtx = 48;
      b.createKVCache({ nLayers: 2, nCtx, kvDim, type });
      const K = randomF32(nCtx * kvDim, r, 2);
      const V = randomF32(nCtx * kvDim, r);
      const [cacheK, cacheV] = [cached(type, K), cached(type, V)];
      // layer 0 gets different data: layer 1 must read its own rows
      const junk = put(randomF32(nCtx * kvDim, r, 9));
      b.storeKV(0, junk, junk, 0, nCtx);
      let pos0 = 0;
      for (const nTokens of [7, 1, 33]) {
        const k = put(K.subarray(pos0 * kvDim, (pos0 + nTokens) * kvDim));
        const v = put(V.subarray(pos0 * kvDim, (pos0 + nTokens) * kvDim));
        b.storeKV(1, k, v, pos0, nTokens);
        const qf = randomF32(nTokens * nHead * hd, r, 2);
        const q = put(qf);
        const out = b.alloc(nTokens * nHead * hd);
        const scale = 1 / Math.sqrt(hd);
        b.attention(1, q, out, pos0, nTokens, { nHead, nHeadKV, headDim: hd, scale });
        const want = refAttention(qf, cacheK, cacheV, pos0, nTokens, nHead, nHeadKV, hd, scale);
        const got = await get(out, qf.length);
        expect(relErr(got, want), `pos0=${pos0} nTokens=${nTokens}`).toBeLessThan(1e-5);
        // the rounding must be there: against the unrounded cache q8_0 is far off
        if (type === 'q8_0') expect(relErr(got, refAttention(qf, K, V, pos0, nTokens, nHead, nHeadKV, hd, scale))).toBeGreaterThan(1e-3);
        for (const a of [k, v, q, out]) b.free(a);
        pos0 += nTokens;
      }
      expect(() => b.storeKV(1, junk, junk, nCtx - 1, 2)).toThrow(expect.objectContaining({ code: 'CONTEXT_FULL' }));
      b.free(junk);
    });

  it.each([['f32', 0, 8], ['f16', 0, 8], ['f32', 20, 8], ['q8_0', 20, 32]] as const)(
    'sliding window over a ring of window + batch − 1 slots, far past the window, %s cache, soft-cap %i (rel err < 1e-5)',
    async (type, cap, hd) => {
      const r = rng(777 + cap);
      const [nHead, nHeadKV, window, maxBatch, nCtx] = [4, 2, 12, 5, 100];
      const kvDim = nHeadKV * hd;
      const slots = window + maxBatch - 1;
      // layer 0 keeps every position, layer 1 is the ring
      b.createKVCache({ nLayers: 2, nCtx, kvDim, type, slots: [nCtx, slots] });
      const K = randomF32(nCtx * kvDim, r, 2);
      const V = randomF32(nCtx * kvDim, r);
      const [cacheK, cacheV] = [cached(type, K), cached(type, V)];
      let pos0 = 0;
      for (const nTokens of [5, 1, 3, 5, 5, 2, 5, 1, 5, 4, 5]) {
        const k = put(K.subarray(pos0 * kvDim, (pos0 + nTokens) * kvDim));
        const v = put(V.subarray(pos0 * kvDim, (pos0 + nTokens) * kvDim));
        for (const l of [0, 1]) b.storeKV(l, k, v, pos0, nTokens);
        const qf = randomF32(nTokens * nHead * hd, r, 2);
        const q = put(qf);
        const scale = 1 / Math.sqrt(hd);
        for (const l of [0, 1]) {
          const out = b.alloc(nTokens * nHead * hd);
          b.attention(l, q, out, pos0, nTokens, { nHead, nHeadKV, headDim: hd, scale, window, softcap: cap });
          const want = refAttention(qf, cacheK, cacheV, pos0, nTokens, nHead, nHeadKV, hd, scale, window, cap);
          expect(relErr(await get(out, qf.length), want), `layer ${l} pos0=${pos0} nTokens=${nTokens}`).toBeLessThan(1e-5);
          b.free(out);
        }
        for (const a of [k, v, q]) b.free(a);
        pos0 += nTokens;
      }
      expect(pos0).toBeGreaterThan(3 * window);
    });

  it('attention with scores hundreds apart (weights below e^-80 skipped) matches f64 (rel err < 1e-5)', async () => {
    const r = rng(4242);
    const [nHead, hd, n] = [2, 16, 40];
    b.createKVCache({ nLayers: 1, nCtx: n, kvDim: hd, type: 'f32' });
    const K = randomF32(n * hd, r, 30);
    const V = randomF32(n * hd, r);
    const kv = [put(K), put(V)];
    b.storeKV(0, kv[0], kv[1], 0, n);
    const qf = randomF32(nHead * hd, r, 30);
    const q = put(qf);
    const out = b.alloc(nHead * hd);
    b.attention(0, q, out, n - 1, 1, { nHead, nHeadKV: 1, headDim: hd, scale: 1 / 4 });
    // the spread the kernel's cut-off acts on: > 80 for both heads
    for (let h = 0; h < nHead; h++) {
      const s = Array.from({ length: n }, (_, j) => qf.subarray(h * hd, (h + 1) * hd).reduce((a, x, i) => a + x * K[j * hd + i], 0) / 4);
      expect(Math.max(...s) - Math.min(...s)).toBeGreaterThan(200);
    }
    expect(relErr(await get(out, nHead * hd), refAttention(qf, K, V, n - 1, 1, nHead, 1, hd, 1 / 4))).toBeLessThan(1e-5);
    for (const a of [...kv, q, out]) b.free(a);
  });

  // a batch's tokens go four at a time (attention4.ts); each must get its one-token output exactly,
  // also where some of its keys fall below the e^-80 cut-off and others do not
  it.each([['f32', 0, 0, 8], ['f16', 0, 0, 64], ['q8_0', 0, 0, 64], ['f16', 9, 20, 16], ['q8_0', 9, 0, 32]] as const)(
    'a batch token\'s attention equals its one-token attention bit for bit, %s cache, window %i, soft-cap %i',
    async (type, window, cap, hd) => {
      const r = rng(31 + hd + window);
      const [nHead, nHeadKV, nTokens, pos0] = [4, 2, 11, 5];
      const kvDim = nHeadKV * hd;
      const nCtx = pos0 + nTokens;
      b.createKVCache({ nLayers: 1, nCtx, kvDim, type });
      const k = put(randomF32(nCtx * kvDim, r, 8));
      const v = put(randomF32(nCtx * kvDim, r));
      b.storeKV(0, k, v, 0, nCtx);
      const qf = randomF32(nTokens * nHead * hd, r, 8);
      const p = { nHead, nHeadKV, headDim: hd, scale: 1 / Math.sqrt(hd), window, softcap: cap };
      const q = put(qf);
      const out = b.alloc(qf.length);
      b.attention(0, q, out, pos0, nTokens, p);
      const batch = await get(out, qf.length);
      const row = nHead * hd;
      const q1 = b.alloc(row), out1 = b.alloc(row);
      for (let t = 0; t < nTokens; t++) {
        b.write(q1, qf.subarray(t * row, (t + 1) * row));
        b.attention(0, q1, out1, pos0 + t, 1, p);
        expect(Array.from(batch.subarray(t * row, (t + 1) * row)), `token ${t}`).toEqual(Array.from(await get(out1, row)));
      }
      for (const a of [k, v, q, out, q1, out1]) b.free(a);
    });
});
