// WebGPU ops without weights vs naive f64 references, inside headless Chromium and in Node on Dawn
// (the same page module and checks; both on SwiftShader here): rope (normal, NEOX,
// partial rotation, frequency factors, longrope's attention factor), KV store + causal GQA
// attention (prefill across key chunks, then decode; f32 and f16 caches; sliding windows over a
// ring, soft-caps), k's rope inside the KV store and q's inside attention, glu (silu, GELU-tanh), scale, softcap, add, copy, softmax, top-k/argmax, device loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webgpuHosts, type BrowserHarness } from './harness.ts';
import { BOUND, type runOps } from './pages/webgpu-ops-page.ts';

describe.each(webgpuHosts({ timeoutMs: 60_000 }))('%s', (host, open) => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await open(); });
  afterAll(async () => { await h?.close(); });

  // threadsPerRow 1: serial attention (the SwiftShader default); 16: the cooperative kernel. The
  // reductions (softmax, cooperative attention) over subgroups where the adapter has them, and
  // forced onto workgroup memory
  describe.each([[1, 'default'], [16, 'default'], [16, 'off']] as const)('WebGPU plain ops, %i thread(s) per row, subgroups %s', (threadsPerRow, sg) => {
    let r: Awaited<ReturnType<typeof runOps>>;
    beforeAll(async () => {
      r = await h.run('test/browser/pages/webgpu-ops-page.ts', 'runOps', 7 + threadsPerRow, threadsPerRow, sg === 'off' ? false : undefined);
      console.log(JSON.stringify({ subgroups: r.subgroups, rope: r.rope, attention: r.attention, ropedStore: r.ropedStore, sliding: r.sliding, elementwise: r.elementwise }));
    }, 90_000);

    it('runs the reductions over subgroups exactly when the adapter has them and they are not forced off', () => {
      expect(r.subgroups.used).toBe(sg === 'off' ? false : r.subgroups.adapter);
    });

    it('rope: normal, NEOX, partial NEOX, frequency factors and longrope at positions in the thousands', () => {
      expect(Object.keys(r.rope)).toHaveLength(5);
      for (const [k, v] of Object.entries(r.rope)) expect(v, k).toBeLessThanOrEqual(BOUND);
    });

    it('attention: causal GQA prefill over > 64 keys and decode, f32, f16 and q8_0 KV caches', () => {
      expect(Object.keys(r.attention)).toHaveLength(5);
      for (const [k, v] of Object.entries(r.attention)) {
        expect(v.prefill, `${k} prefill`).toBeLessThanOrEqual(BOUND);
        expect(v.decode, `${k} decode`).toBeLessThanOrEqual(BOUND);
        // against the unrounded keys and values q8_0 is far off: the cache really holds 8-bit blocks
        if (k.startsWith('q8_0')) expect(v.unrounded, `${k} unrounded`).toBeGreaterThan(1e-3);
      }
    });

    it('k turned inside the KV store (storeKVRoped) and q inside attention (attentionRoped), each rope case, two with q/k/v biases, f32/f16/q8_0 caches: as the f64 reference and as addBias + rope + storeKV, + attention', () => {
      expect(Object.keys(r.ropedStore)).toHaveLength(15);
      for (const [k, v] of Object.entries(r.ropedStore)) {
        // f16: keys turned in f32 near an f16 rounding boundary may round the other way than the
        // f64 reference's (observed ≤ 8e-6); a wrong rotation is off by O(1)
        if (k.startsWith('f32')) expect(v.ref, `${k} vs reference`).toBeLessThanOrEqual(BOUND);
        if (k.startsWith('f16')) expect(v.ref, `${k} vs reference`).toBeLessThanOrEqual(1e-4);
        // the same f32 arithmetic as the rope kernel (SwiftShader: identical)
        expect(v.unfused, `${k} vs unfused`).toBeLessThanOrEqual(1e-6);
      }
    });

    it('sliding-window attention over a ring of window + batch − 1 slots, far past the window; soft-capped scores', () => {
      expect(Object.keys(r.sliding)).toHaveLength(4);
      for (const [k, v] of Object.entries(r.sliding)) expect(v, k).toBeLessThanOrEqual(BOUND);
    });

    it('glu: silu and GELU-tanh (in place over gate, over up, separate), scale, softcap, add, copy, softmax', () => {
      expect(Object.keys(r.elementwise)).toEqual(['silu-into-gate', 'silu-into-up', 'silu-separate', 'gelu_tanh-into-gate',
        'gelu_tanh-into-up', 'gelu_tanh-separate', 'scale', 'softcap', 'add', 'copy', 'softmax']);
      for (const [k, v] of Object.entries(r.elementwise)) expect(v, k).toBeLessThanOrEqual(BOUND);
    });

    it('top-k and argmax on the GPU match a sort (ties by lowest index)', () => {
      expect(r.topK.got).toEqual(r.topK.want);
      expect(r.topK.ok).toBe(true);
      expect(r.topK.argmaxOk).toBe(true);
    });
  });

  describe('WebGPU failures', () => {
    it.runIf(host === 'Chromium')('no WebGPU in the browser: a BACKEND error that names the WASM fallback', async () => {
      const r = await h.run<{ code: string; message: string }>('test/browser/pages/webgpu-ops-page.ts', 'runNoWebGPU');
      expect(r.code).toBe('BACKEND');
      expect(r.message).toMatch(/WebGPU is not available.*WASM/);
    });

    it('a lost device is reported through onLost and later ops throw BACKEND errors', async () => {
      const d = await h.run<{ lostCode: string; lostMessage: string; thrownCode: string | null }>('test/browser/pages/webgpu-ops-page.ts', 'runDeviceLoss');
      expect(d.lostCode).toBe('BACKEND');
      expect(d.lostMessage).toMatch(/GPU device was lost.*WASM/);
      expect(d.thrownCode).toBe('BACKEND');
    });
  });
});
