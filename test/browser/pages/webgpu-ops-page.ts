// Page side of webgpu-ops.test.ts: the ops without weights (rope, KV store + attention with
// windows, rings and soft-caps, softmax, glu, scale, softcap, add, copy, top-k/argmax) and
// device-loss reporting, against naive f64 references.
import type { Activation } from '../../../src/backends/backend.ts';
import { createWebGPUBackend, type WebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { isEngineError } from '../../../src/shared/errors.ts';
import type { KVType } from '../../../src/backends/kv-layout.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { attentionRef, geluTanhRef, randn, relErr, rng, ropeRef, roundKV, siluRef, softmaxRef } from './reference.ts';

// f32 math in a different order (and exp/sin on the GPU): ‖gpu − ref‖₂ / ‖ref‖₂ ≤ 1e-5.
export const BOUND = 1e-5;

type R = ReturnType<typeof rng>;

function put(b: WebGPUBackend, x: Float32Array): Activation {
  const a = b.alloc(x.length);
  b.write(a, x);
  return a;
}

async function ropeCases(b: WebGPUBackend, r: R): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const ff = Float32Array.from({ length: 8 }, (_, i) => 1 + i * 0.7);
  const cases = [
    { name: 'normal', neox: false, nRot: 16, ff: undefined },
    { name: 'neox', neox: true, nRot: 16, ff: undefined },
    { name: 'partial-neox', neox: true, nRot: 8, ff: undefined },
    { name: 'freq-factors', neox: false, nRot: 16, ff },
    { name: 'longrope', neox: true, nRot: 12, ff, attnFactor: 1.19 },
  ];
  const [n, nHeads, headDim, pos0, base] = [5, 3, 16, 1000 + r.int(3000), 10000];
  for (const c of cases) {
    const x = randn(r, n * nHeads * headDim);
    const a = put(b, x);
    const attnFactor = 'attnFactor' in c ? c.attnFactor : undefined;
    b.rope(a, n, nHeads, headDim, pos0, { nRot: c.nRot, freqBase: base, neox: c.neox, freqFactors: c.ff?.subarray(0, c.nRot / 2), attnFactor });
    out[c.name] = relErr(await b.read(a, 0, x.length), ropeRef(x, n, nHeads, headDim, pos0, c.nRot, base, c.neox, c.ff, attnFactor));
  }
  return out;
}

/**
 * Prefill nPre tokens (one batch, crossing the 64-key chunk), then decode one more, GQA 4/nHeadKV.
 * `unrounded`: the error against the cache's exact inputs (q8_0 must be far off there).
 */
async function attentionCase(b: WebGPUBackend, r: R, headDim: number, kvType: KVType, nHeadKV = 2): Promise<{ prefill: number; decode: number; unrounded: number }> {
  const [nHead, nPre, nCtx] = [4, 70, 96];
  const kvDim = nHeadKV * headDim;
  const scale = 1 / Math.sqrt(headDim);
  b.createKVCache({ nLayers: 2, nCtx, kvDim, type: kvType });
  const K = randn(r, (nPre + 1) * kvDim);
  const V = randn(r, (nPre + 1) * kvDim);
  const q = randn(r, (nPre + 1) * nHead * headDim);
  const run = async (pos0: number, n: number) => {
    const ka = put(b, K.slice(pos0 * kvDim, (pos0 + n) * kvDim));
    const va = put(b, V.slice(pos0 * kvDim, (pos0 + n) * kvDim));
    const qa = put(b, q.slice(pos0 * nHead * headDim, (pos0 + n) * nHead * headDim));
    const o = b.alloc(n * nHead * headDim);
    b.storeKV(1, ka, va, pos0, n);
    b.attention(1, qa, o, pos0, n, { nHead, nHeadKV, headDim, scale });
    return b.read(o, 0, n * nHead * headDim);
  };
  const pre = await run(0, nPre);
  const dec = await run(nPre, 1);
  const ref = attentionRef(q, roundKV(kvType, K), roundKV(kvType, V), 0, nPre + 1, nHead, nHeadKV, headDim, scale);
  return {
    prefill: relErr(pre, ref.subarray(0, nPre * nHead * headDim)),
    decode: relErr(dec, ref.subarray(nPre * nHead * headDim)),
    unrounded: relErr(pre, attentionRef(q, K, V, 0, nPre, nHead, nHeadKV, headDim, scale)),
  };
}

const ROPE_CASES = [
  { name: 'normal', neox: false, nRot: 32 },
  { name: 'neox', neox: true, nRot: 32, bias: true },
  { name: 'partial-neox', neox: true, nRot: 16 },
  { name: 'freq-factors', neox: false, nRot: 32, ff: true, bias: true },
  { name: 'longrope', neox: true, nRot: 24, ff: true, attnFactor: 1.19 },
];

/**
 * storeKVRoped (k turned inside the KV store) and attentionRoped (q turned inside attention), two
 * cases with Qwen2-style q/k/v biases added inside them too: n keys
 * in one batch, then one more (decode), at positions up to ~1200, each rope case; attention of the
 * last queries over them against the f64 reference over rope-turned queries and keys (f32, f16
 * caches), and against the unfused rope + storeKV and rope + attention on another layer (every
 * cache type; q8_0's levels make the f64 reference inexact there).
 */
async function ropedStoreCase(b: WebGPUBackend, r: R, kvType: KVType, c: typeof ROPE_CASES[number]): Promise<{ ref: number; unfused: number }> {
  const [nHead, nHeadKV, headDim, base, nq] = [4, 2, 32, 10000, 5];
  const n = 600 + r.int(600);
  const kvDim = nHeadKV * headDim;
  const scale = 1 / Math.sqrt(headDim);
  b.createKVCache({ nLayers: 2, nCtx: n + 1, kvDim, type: kvType });
  const K = randn(r, (n + 1) * kvDim), V = randn(r, (n + 1) * kvDim), q = randn(r, (nq + 1) * nHead * headDim);
  const ff = c.ff ? Float32Array.from({ length: c.nRot / 2 }, (_, i) => 1 + i * 0.7) : undefined;
  const rope = { nRot: c.nRot, freqBase: base, neox: c.neox, freqFactors: ff, attnFactor: c.attnFactor };
  // the cases with Qwen2-style biases: added inside the store and attention (layer 0), by addBias (layer 1)
  const biases = 'bias' in c ? [kvDim, kvDim, nHead * headDim].map((w) => randn(r, w)) : null;
  const [bk, bv, bq] = biases ? biases.map((x, i) => b.uploadWeight(`b${i}`, GGMLType.F32, x.length, 1, new Uint8Array(x.buffer.slice(0)))) : [];
  const outs: Float32Array[] = [];
  for (const layer of [0, 1]) {
    for (const [pos0, m] of [[0, n], [n, 1]]) {
      const ka = put(b, K.slice(pos0 * kvDim, (pos0 + m) * kvDim)), va = put(b, V.slice(pos0 * kvDim, (pos0 + m) * kvDim));
      if (layer === 0) {
        if (!b.storeKVRoped(0, ka, va, pos0, m, headDim, rope, bk && bv ? { k: bk, v: bv } : undefined)) throw new Error('storeKVRoped declined');
      } else {
        if (bk && bv) { b.addBias(ka, bk, m); b.addBias(va, bv, m); }
        b.rope(ka, m, nHeadKV, headDim, pos0, rope);
        b.storeKV(1, ka, va, pos0, m);
      }
    }
    const qa = put(b, q);
    const o = b.alloc((nq + 1) * nHead * headDim);
    const a = { nHead, nHeadKV, headDim, scale };
    if (layer === 0) {
      if (!b.attentionRoped(0, qa, o, n - nq + 1, nq, a, rope, bq)) throw new Error('attentionRoped declined');
    } else {
      if (bq) b.addBias(qa, bq, nq);
      b.rope(qa, nq, nHead, headDim, n - nq + 1, rope);
      b.attention(1, qa, o, n - nq + 1, nq, a);
    }
    outs.push(await b.read(o, 0, nq * nHead * headDim));
  }
  const plus = (x: Float32Array, bias: Float32Array | undefined) => bias ? x.map((v, i) => v + bias[i % bias.length]) : x;
  const Kr = Float32Array.from(ropeRef(plus(K, biases?.[0]), n + 1, nHeadKV, headDim, 0, c.nRot, base, c.neox, ff, c.attnFactor));
  const qr = Float32Array.from(ropeRef(plus(q.subarray(0, nq * nHead * headDim), biases?.[2]), nq, nHead, headDim, n - nq + 1,
    c.nRot, base, c.neox, ff, c.attnFactor));
  const ref = attentionRef(qr, roundKV(kvType, Kr), roundKV(kvType, plus(V, biases?.[1])), n - nq + 1, nq, nHead, nHeadKV, headDim, scale);
  return { ref: kvType === 'q8_0' ? NaN : relErr(outs[0], ref), unfused: relErr(outs[0], outs[1]) };
}

async function ropedStoreCases(b: WebGPUBackend, r: R): Promise<Record<string, { ref: number; unfused: number }>> {
  const out: Record<string, { ref: number; unfused: number }> = {};
  for (const kvType of ['f32', 'f16', 'q8_0'] as const) {
    for (const c of ROPE_CASES) out[`${kvType}-${c.name}`] = await ropedStoreCase(b, r, kvType, c);
  }
  return out;
}

/**
 * A sliding layer on a ring of window + batch − 1 slots beside a full layer, batch after batch far
 * past the window (keys wrap the ring several times), soft-capped scores; worst error of all steps.
 */
async function slidingCase(b: WebGPUBackend, r: R, kvType: KVType, cap: number, headDim = 16): Promise<number> {
  const [nHead, nHeadKV, window, maxBatch, nCtx] = [4, 2, 12, 5, 100];
  const kvDim = nHeadKV * headDim;
  const scale = 1 / Math.sqrt(headDim);
  b.createKVCache({ nLayers: 2, nCtx, kvDim, type: kvType, slots: [nCtx, window + maxBatch - 1] });
  const K = randn(r, nCtx * kvDim);
  const V = randn(r, nCtx * kvDim);
  const q = randn(r, nCtx * nHead * headDim, 2);
  const outs: Float32Array[] = [[], []].map(() => new Float32Array(nCtx * nHead * headDim));
  let pos0 = 0;
  for (const n of [5, 1, 3, 5, 5, 2, 5, 1, 5, 4, 5]) {
    const ka = put(b, K.slice(pos0 * kvDim, (pos0 + n) * kvDim));
    const va = put(b, V.slice(pos0 * kvDim, (pos0 + n) * kvDim));
    const qa = put(b, q.slice(pos0 * nHead * headDim, (pos0 + n) * nHead * headDim));
    for (const l of [0, 1]) {
      const o = b.alloc(n * nHead * headDim);
      b.storeKV(l, ka, va, pos0, n);
      b.attention(l, qa, o, pos0, n, { nHead, nHeadKV, headDim, scale, window, softcap: cap });
      outs[l].set(await b.read(o, 0, n * nHead * headDim), pos0 * nHead * headDim);
    }
    pos0 += n;
  }
  const ref = attentionRef(q, roundKV(kvType, K), roundKV(kvType, V), 0, pos0, nHead, nHeadKV, headDim, scale, window, cap);
  const m = pos0 * nHead * headDim;
  return Math.max(relErr(outs[0].subarray(0, m), ref), relErr(outs[1].subarray(0, m), ref));
}

async function elementwise(b: WebGPUBackend, r: R): Promise<Record<string, number>> {
  const n = 1000 + r.int(500);
  const g = randn(r, n, 3);
  const u = randn(r, n);
  const modes: Record<string, number> = {};
  for (const kind of ['silu', 'gelu_tanh'] as const) {
    const act = kind === 'silu' ? siluRef : geluTanhRef;
    const ref = Float64Array.from(g, (v, i) => act(v) * u[i]);
    for (const mode of ['into-gate', 'into-up', 'separate'] as const) {
      const ga = put(b, g);
      const ua = put(b, u);
      const out = mode === 'into-gate' ? ga : mode === 'into-up' ? ua : b.alloc(n);
      b.glu(ga, ua, out, n, kind);
      modes[`${kind}-${mode}`] = relErr(await b.read(out, 0, n), ref);
    }
  }
  const sa0 = put(b, g);
  b.scale(sa0, n, 8);
  modes.scale = relErr(await b.read(sa0, 0, n), Float64Array.from(g, (v) => v * 8));
  b.softcap(sa0, n, 30);
  modes.softcap = relErr(await b.read(sa0, 0, n), Float64Array.from(g, (v) => 30 * Math.tanh((v * 8) / 30)));
  const da = put(b, g);
  b.add(da, put(b, u), n);
  modes.add = relErr(await b.read(da, 0, n), Float64Array.from(g, (v, i) => v + u[i]));
  const dst = put(b, u);
  b.copy(put(b, g), 7, dst, 3, 100);
  const copyRef = Float32Array.from(u);
  copyRef.set(g.subarray(7, 107), 3);
  modes.copy = relErr(await b.read(dst, 0, n), copyRef);
  const [rows, width] = [3, 777];
  const s = randn(r, rows * width, 4);
  const sa = put(b, s);
  b.softmax(sa, rows, width);
  const sref = new Float64Array(rows * width);
  for (let i = 0; i < rows; i++) sref.set(softmaxRef(s.subarray(i * width, (i + 1) * width)), i * width);
  modes.softmax = relErr(await b.read(sa, 0, rows * width), sref);
  return modes;
}

/** top-k over values with deliberate ties; the reference sorts by value desc, index asc. */
async function topK(b: WebGPUBackend, r: R): Promise<{ ok: boolean; argmaxOk: boolean; got: number[]; want: number[] }> {
  const n = 5003;
  const x = Float32Array.from({ length: n }, () => Math.round(r.normal() * 20) / 4);
  const a = put(b, x);
  const want = [...x.keys()].sort((i, j) => x[j] - x[i] || i - j).slice(0, 40);
  const got = await b.topK(a, 40);
  const ok = got.ids.every((id, i) => id === want[i]) && got.values.every((v, i) => v === x[want[i]]);
  const argmaxOk = (await b.argmax(a)) === want[0] && (await b.argmax(a, 100)) === [...x.subarray(0, 100).keys()].sort((i, j) => x[j] - x[i] || i - j)[0];
  return { ok, argmaxOk, got: got.ids.slice(0, 8), want: want.slice(0, 8) };
}

/** threadsPerRow 1 selects the serial attention kernel, > 1 the cooperative one; subgroups false
 *  forces the workgroup-memory reductions (softmax, cooperative attention). */
export async function runOps(seed: number, threadsPerRow: number, subgroups?: boolean) {
  const r = rng(seed);
  const b = await createWebGPUBackend({ threadsPerRow, subgroups });
  try {
    return {
      subgroups: { adapter: b.caps.subgroups && !!b.caps.subgroupSizes, used: b.subgroups },
      rope: await ropeCases(b, r),
      attention: {
        'f32-hd32': await attentionCase(b, r, 32, 'f32'),
        'f32-hd80': await attentionCase(b, r, 80, 'f32'),
        'f16-hd32': await attentionCase(b, r, 32, 'f16'),
        'q8_0-hd32': await attentionCase(b, r, 32, 'q8_0'),
        // one KV head of 3 blocks: rows whose scale words are padded
        'q8_0-hd96-kv1': await attentionCase(b, r, 96, 'q8_0', 1),
      },
      sliding: {
        f32: await slidingCase(b, r, 'f32', 0),
        f16: await slidingCase(b, r, 'f16', 0),
        'f32-softcap': await slidingCase(b, r, 'f32', 20),
        'q8_0-softcap': await slidingCase(b, r, 'q8_0', 20, 32),
      },
      ropedStore: await ropedStoreCases(b, r),
      elementwise: await elementwise(b, r),
      topK: await topK(b, r),
      stats: b.stats(),
    };
  } finally {
    b.dispose();
  }
}

/** Forces a device loss: onLost fires with a BACKEND error and later ops throw one. */
export async function runDeviceLoss(): Promise<{ lostCode: string; lostMessage: string; thrownCode: string | null }> {
  const b = await createWebGPUBackend();
  const lost = new Promise<{ code: string; message: string }>((resolve) => b.onLost((e) => resolve({ code: e.code, message: e.message })));
  const a = b.alloc(16);
  b.forceDeviceLoss();
  const { code, message } = await lost;
  let thrownCode: string | null = null;
  try {
    await b.read(a, 0, 16);
  } catch (e) {
    thrownCode = isEngineError(e) ? e.code : `not an EngineError: ${e}`;
  }
  return { lostCode: code, lostMessage: message, thrownCode };
}

/** Without navigator.gpu the backend refuses with a BACKEND error that points to WASM. */
export async function runNoWebGPU(): Promise<{ code: string; message: string }> {
  Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
  try {
    await createWebGPUBackend();
    return { code: 'none', message: 'created a backend without WebGPU' };
  } catch (e) {
    return isEngineError(e) ? { code: e.code, message: e.message } : { code: 'not an EngineError', message: String(e) };
  } finally {
    delete (navigator as unknown as Record<string, unknown>).gpu;
  }
}
