// The WebGPU backend's fused kernels (q/k/v in one matmul, rope of k inside the KV store and of q
// inside attention, gate/up + GLU, the pre-norms inside the q/k/v and gate/up kernels) against its
// own unfused ops on real fixture models, inside headless Chromium and in Node on
// Dawn: the logits of a batched prefill and of single-token decode steps, with the fusion on and
// off (backend option fuse), agree to float rounding, and the fused run records fewer dispatches.
// Families: llama (adjacent-pair rope; a Q4_K_M file whose wv is Q6_K in some layers, so q/k/v of
// two formats share the kernel), qwen2 (q/k/v biases added in the KV store and attention, NEOX rope),
// qwen3 (per-head q/k RMSNorm between the matmul and the rope), llama 3.2 (rope frequency
// factors) and phi3 (a fused attn_qkv tensor, split at load time). And the fused q/k/v kernel per
// block format (one format and mixed triples; decode and batched; both thread layouts; f16
// products) against f64 math over the dequantized weights; split weights take the unfused path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webgpuHosts, type BrowserHarness } from './harness.ts';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import type { FusedQKVResult, FusedVsUnfused } from './pages/webgpu-fused-page.ts';

const PAGE = 'test/browser/pages/webgpu-fused-page.ts';
const PROMPT = 11; // a batch of 8 tokens, then a partial one (the prefill kernels' token groups)
const DECODE = 3;

const CASES: [dir: string, file: string, kvType: 'f32' | 'f16' | 'q8_0'][] = [
  ['quant', 'dev-llama.Q4_K_M.gguf', 'f16'],
  ['quant', 'dev-llama.Q4_K_M.gguf', 'f32'],
  ['quant', 'dev-llama.Q4_K_M.gguf', 'q8_0'],
  ['quant', 'dev-qwen2-tied.Q4_K_M.gguf', 'f16'],
  ['arch', 'dev-qwen3.Q8_0.gguf', 'f16'],
  ['arch', 'dev-llama32.Q8_0.gguf', 'f16'],
  ['arch', 'dev-phi3.Q8_0.gguf', 'f16'],
];

describe.each(webgpuHosts({ timeoutMs: 250_000 }))('%s', (_host, open) => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await open(); });
  afterAll(async () => { await h?.close(); });

  describe('matmulQKV × block formats', () => {
    // as webgpu-formats.test.ts: the same dequantized values, f32 vs f64 accumulation
    const BOUND = 1e-5, F16_BOUND = 2e-3;
    let r: { shaderF16: boolean; results: FusedQKVResult[]; mixed: FusedQKVResult[]; split: { fused: boolean; helperErr: number; chunks: number } };
    beforeAll(async () => {
      r = await h.run(PAGE, 'runFusedQKV', 20261203);
      for (const x of [...r.results, ...r.mixed]) {
        console.log(`qkv ${x.formats.padEnd(14)} ${x.rows.join('/')}×${x.cols}: ${Object.entries(x.err).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(' ')}`);
      }
    }, 300_000);

    it('covers every format of the traits table, and mixed triples', () => {
      expect(r.results.map((x) => x.formats)).toEqual([...FORMAT_TRAITS.values()].map((t) => `${t.id}/${t.id}/${t.id}`));
      expect(r.mixed.map((x) => x.formats)).toEqual(['q4_k/q4_k/q6_k', 'q3_k/q3_k/q5_k', 'q8_0/f16/q4_0']);
    });

    it(`each triple fuses; q, k, v within ${BOUND} (1 and 11 tokens; 1 and 16 threads per row); f16 products within ${F16_BOUND}`, () => {
      for (const x of [...r.results, ...r.mixed]) {
        expect(x.fused, x.formats).toBe(true);
        expect(Object.keys(x.err)).toHaveLength(4);
        for (const [k, v] of Object.entries(x.err)) expect(v, `${x.formats} ${k}`).toBeLessThanOrEqual(BOUND);
        if (x.f16) {
          expect(x.f16.vec, `${x.formats} f16`).toBeLessThanOrEqual(F16_BOUND);
          expect(x.f16.batch, `${x.formats} f16`).toBeLessThanOrEqual(F16_BOUND);
        }
      }
    });

    it('weights split across buffers: matmulQKV declines and qkvMatmul gives the unfused result', () => {
      expect(r.split.chunks).toBeGreaterThan(2);
      expect(r.split.fused).toBe(false);
      expect(r.split.helperErr).toBeLessThanOrEqual(BOUND);
    });
  });

  for (const [dir, file, kvType] of CASES) {
    it(`${file}, ${kvType} KV cache: fused and unfused logits agree; fewer dispatches`, async () => {
      const r = await h.run<FusedVsUnfused>(PAGE, 'fusedVsUnfused', h.fixtureUrl(dir, file), PROMPT, DECODE, kvType);
      console.log(`${file} ${kvType}: max |Δ logit| ${r.maxDiff.toExponential(2)} of max |logit| ${r.maxAbs.toFixed(2)}; `
        + `dispatches ${r.dispatches.unfused} → ${r.dispatches.fused}`);
      expect(r.rows).toBe(PROMPT + DECODE);
      expect(r.maxAbs).toBeGreaterThan(0);
      // the same sums in the same order (SwiftShader: identical logits); a GPU compiler may contract
      // the two kernels' arithmetic differently
      expect(r.maxDiff).toBeLessThanOrEqual(1e-5 * r.maxAbs);
      expect(r.argmaxDiffers).toBe(0);
      // per layer and forward pass: q/k/v 3 → 1, gate/up + GLU 3 → 1, rope of k folded into the
      // store and of q into attention, both residual adds into the o and down matmuls' stores (no
      // post-norms in these families), both pre-norms into the q/k/v and gate/up kernels; qwen2's
      // three biases into the store (k, v) and attention (q)
      const saved = 10 + (file.includes('qwen2') ? 3 : 0);
      expect(r.dispatches.unfused - r.dispatches.fused).toBe(saved * r.layers * (1 + DECODE));
    }, 120_000);
  }
});
