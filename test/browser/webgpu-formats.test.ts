// WebGPU weight-reading ops (matrix-vector, matrix-matrix, embedding, RMSNorm weight, bias) for
// every block format of FORMAT_TRAITS (serial, workgroup-memory and subgroup row reductions; the subgroup path also against the
// workgroup one) vs the scalar reference dequantization with naive f64 math,
// inside headless Chromium and in Node on Dawn (same page module and checks). Also: a forced small binding limit splits weights and changes nothing.
// And the fused gate/up matmul + GLU (silu, GELU-tanh; decode and batched; both thread layouts) per format vs f64 math over
// the two dequantized weights, plus a pair of two formats through the unfused fallback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { webgpuHosts, type BrowserHarness } from './harness.ts';
import { BOUND, F16_BOUND, type FormatResult, type FusedGluResult } from './pages/webgpu-formats-page.ts';

describe.each(webgpuHosts({ timeoutMs: 250_000 }))('%s', (_host, open) => {
  describe('WebGPU ops × block formats', () => {
    let h: BrowserHarness;
    let results: FormatResult[] = [];
    beforeAll(async () => {
      h = await open();
      const r = await h.run<{ adapter: string; shaderF16: boolean; subgroups: boolean; results: FormatResult[] }>(
        'test/browser/pages/webgpu-formats-page.ts', 'runFormats', 20240611);
      if (!r.shaderF16) console.log(`notice: adapter '${r.adapter}' has no shader-f16; f16 kernel variants not tested`);
      if (!r.subgroups) console.log(`notice: adapter '${r.adapter}' has no subgroups; subgroup reductions not tested`);
      results = r.results;
      for (const x of results) {
        const coop = Object.entries(x.coop).map(([k, v]) => `${k} ${v.matvec.toExponential(1)}/${v.matmul.toExponential(1)}`).join(' ');
        console.log(`${x.format.padEnd(5)} ${x.rows}×${x.cols}: matvec ${x.matvec.toExponential(1)} matmul ${x.matmul.toExponential(1)} coop ${coop} ` +
          `embed ${x.embed.toExponential(1)} rmsnorm ${x.rmsnorm.toExponential(1)}/${x.rmsnormWg.toExponential(1)} bias ${x.addBias.toExponential(1)} chunks ${x.forcedChunks}`);
      }
    }, 120_000);
    afterAll(async () => { await h?.close(); });

    it('covers every format of the traits table', () => {
      expect(results.map((r) => r.format)).toEqual([...FORMAT_TRAITS.values()].map((t) => t.id));
    });

    for (const t of FORMAT_TRAITS.values()) {
      it(`${t.id}: matvec, matmul (1 thread per row; 16 on workgroup memory; 2, 4, 16 on subgroups), embed, rmsnorm, addBias within ${BOUND}; split weights identical`, () => {
        const r = results.find((x) => x.format === t.id)!;
        expect(r, `no result for ${t.id}`).toBeDefined();
        for (const k of ['matvec', 'matmul', 'embed', 'rmsnorm', 'rmsnormWg', 'addBias'] as const) {
          expect(r[k], `${t.id} ${k} (${r.rows}×${r.cols})`).toBeLessThanOrEqual(BOUND);
        }
        expect(Object.keys(r.coop)).toEqual(r.sgVsWg ? ['16-wg', '16-sg', '4-sg', '2-sg'] : ['16-wg']);
        for (const [k, v] of Object.entries(r.coop)) {
          expect(v.matvec, `${t.id} ${k} matvec`).toBeLessThanOrEqual(BOUND);
          expect(v.matmul, `${t.id} ${k} matmul`).toBeLessThanOrEqual(BOUND);
        }
        // the two reductions differ only in summation order
        if (r.sgVsWg) for (const [k, v] of Object.entries(r.sgVsWg)) expect(v, `${t.id} subgroup vs workgroup ${k}`).toBeLessThanOrEqual(BOUND);
        expect(r.forcedChunks).toBeGreaterThan(2);
        expect(r.splitIdentical).toBe(true);
      });
      it(`${t.id}: f16 matvec and matmul within ${F16_BOUND} (adapters with shader-f16)`, (ctx) => {
        const r = results.find((x) => x.format === t.id)!;
        if (!r.f16) return ctx.skip();
        expect(r.f16.matvec).toBeLessThanOrEqual(F16_BOUND);
        expect(r.f16.matmul).toBeLessThanOrEqual(F16_BOUND);
      });
    }
  });
  describe('WebGPU fused gate/up matmul + GLU × block formats', () => {
    let h: BrowserHarness;
    let r: { shaderF16: boolean; subgroups: boolean; results: FusedGluResult[]; mixed: { err: number; fused: boolean } };
    beforeAll(async () => {
      h = await open();
      r = await h.run('test/browser/pages/webgpu-formats-page.ts', 'runFusedGlu', 20261203);
      for (const x of r.results) {
        console.log(`glu ${x.format.padEnd(5)} ${x.rows}×${x.cols}: ${Object.entries(x.err).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(' ')} chunks ${x.forcedChunks}`);
      }
    }, 300_000);
    afterAll(async () => { await h?.close(); });

    it('covers every format of the traits table', () => {
      expect(r.results.map((x) => x.format)).toEqual([...FORMAT_TRAITS.values()].map((t) => t.id));
    });

    it('gate and up of two formats: matmulGlu declines and gatedMatmul gives the unfused result', () => {
      expect(r.mixed.fused).toBe(false);
      expect(r.mixed.err).toBeLessThanOrEqual(BOUND);
    });

    for (const t of FORMAT_TRAITS.values()) {
      it(`${t.id}: act(gate · x) · (up · x) within ${BOUND} (silu, GELU-tanh; 1 and 11 tokens; 1 and 16 threads per row, subgroups 2, 4, 16); split weights identical`, () => {
        const x = r.results.find((y) => y.format === t.id)!;
        expect(x.fused).toBe(true);
        expect(Object.keys(x.err)).toHaveLength(r.subgroups ? 10 : 6);
        for (const [k, v] of Object.entries(x.err)) expect(v, `${t.id} ${k} (${x.rows}×${x.cols})`).toBeLessThanOrEqual(BOUND);
        expect(x.forcedChunks).toBeGreaterThan(2);
        expect(x.splitIdentical).toBe(true);
      });
      it(`${t.id}: f16 fused GLU within ${F16_BOUND} (adapters with shader-f16)`, (ctx) => {
        const x = r.results.find((y) => y.format === t.id)!;
        if (!x.f16) return ctx.skip();
        expect(x.f16.vec).toBeLessThanOrEqual(F16_BOUND);
        expect(x.f16.batch).toBeLessThanOrEqual(F16_BOUND);
      });
    }
  });
});
