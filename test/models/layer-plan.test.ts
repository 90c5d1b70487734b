// The per-layer plan each family's declaration produces from the file's keys (the end-to-end
// checks against llama.cpp are in test/engine/arch-*.test.ts; this pins the plan's details).
import { describe, expect, it } from 'vitest';
import type { HParams } from '../../src/models/hparams.ts';
import { planModel, yarnDivisors } from '../../src/models/layer-plan.ts';
import { getArch } from '../../src/models/registry.ts';

const h = (over: Partial<HParams>): HParams => ({
  arch: 'x', name: 'x', nCtxTrain: 8192, dim: 256, nLayers: 12, ffDim: 512, nHead: 4, nHeadKV: 2, headDim: 64, nRot: 64,
  ropeBase: 1e6, ropeLinearFactor: 1, rmsEps: 1e-6, vocabSize: 100, ropeScalingType: '', ropeScalingFactor: 1,
  nCtxOrig: 8192, ropeAttnFactor: 1, ...over,
});

describe('layer plans', () => {
  it('gemma3: five sliding layers (own base, unscaled, ring of window + batch − 1) to one global (scaled)', () => {
    const p = planModel(h({ slidingWindow: 512, ropeBaseSwa: 10000, ropeLinearFactor: 8 }), getArch('gemma3'), {}, 4096, 64);
    const sliding = p.layers.map((l) => l.attn.window! > 0);
    expect(sliding).toEqual([true, true, true, true, true, false, true, true, true, true, true, false]);
    for (const l of p.layers.filter((x) => x.attn.window)) {
      expect([l.rope!.freqBase, l.rope!.freqFactors, l.slots]).toEqual([10000, undefined, 512 + 63]);
    }
    const g = p.layers[5];
    expect([g.rope!.freqBase, g.slots, g.attn.window]).toEqual([1e6, 4096, 0]);
    expect(Array.from(g.rope!.freqFactors!)).toEqual(new Array(32).fill(8));
    expect(p.embedScale).toBe(16);
    expect([p.finalSoftcap, g.attn.softcap, g.attn.scale]).toEqual([0, 0, 1 / 8]);
  });

  it('gemma3 without a window: every layer global; the 27B layer count switches the score scale', () => {
    const p = planModel(h({}), getArch('gemma3'), {}, 4096, 64);
    expect(p.layers.every((l) => l.attn.window === 0 && l.slots === 4096)).toBe(true);
    const big = planModel(h({ nLayers: 62, dim: 5376, nHead: 32, headDim: 128 }), getArch('gemma3'), {}, 256, 64);
    expect(big.layers[0].attn.scale).toBeCloseTo(1 / Math.sqrt(168), 12);
  });

  it('gemma2: every other layer slides over 4096 by default, soft-caps 50 / 30, the global rope base', () => {
    const p = planModel(h({ nLayers: 4 }), getArch('gemma2'), {}, 8192, 64);
    expect(p.layers.map((l) => l.attn.window)).toEqual([4096, 0, 4096, 0]);
    expect(p.layers.map((l) => l.rope!.freqBase)).toEqual([1e6, 1e6, 1e6, 1e6]);
    expect([p.layers[0].attn.softcap, p.finalSoftcap]).toEqual([50, 30]);
  });

  it('a per-layer pattern from the file wins over the family default', () => {
    const p = planModel(h({ nLayers: 3, slidingWindow: 8, slidingWindowPattern: [false, true, false] }), getArch('gemma3'), {}, 64, 4);
    expect(p.layers.map((l) => [l.attn.window, l.slots])).toEqual([[0, 64], [8, 11], [0, 64]]);
  });

  it('smollm3: no rope on every fourth layer', () => {
    const p = planModel(h({ nLayers: 8 }), getArch('smollm3'), {}, 64, 4);
    expect(p.layers.map((l) => l.rope === null)).toEqual([false, false, false, true, false, false, false, true]);
  });

  it('phi3 longrope: short factors up to the original context, long beyond; the attention factor always', () => {
    const f = { long: new Float32Array(32).fill(4), short: new Float32Array(32).fill(2) };
    const hp = h({ nCtxOrig: 4096, ropeAttnFactor: 1.19 });
    expect(planModel(hp, getArch('phi3'), f, 4096, 64).layers[0].rope).toMatchObject({ freqFactors: f.short, attnFactor: 1.19, neox: true });
    expect(planModel(hp, getArch('phi3'), f, 4097, 64).layers[0].rope).toMatchObject({ freqFactors: f.long, attnFactor: 1.19 });
  });

  it('yarn: low frequencies interpolated by the factor, high ones kept, a ramp between', () => {
    const d = yarnDivisors(64, 1e6, 32768, 4);
    expect(d[0]).toBe(1);
    expect(d[31]).toBe(4);
    for (let i = 1; i < 32; i++) expect(d[i]).toBeGreaterThanOrEqual(d[i - 1]);
    const p = planModel(h({ ropeScalingType: 'yarn', ropeScalingFactor: 4, nCtxOrig: 32768 }), getArch('qwen3'), {}, 4096, 64);
    expect(p.layers[0].rope!.attnFactor).toBeCloseTo(1 + 0.1 * Math.log(4), 12);
  });
});

describe('rope scaling types', () => {
  it('an unknown scaling type is refused with a typed error naming it and the supported ones', async () => {
    const { readHParams } = await import('../../src/models/hparams.ts');
    const meta = new Map<string, unknown>([['x.embedding_length', 64], ['x.attention.head_count', 4], ['x.block_count', 2],
      ['x.feed_forward_length', 128], ['x.vocab_size', 10], ['x.rope.scaling.type', 'dynamic-ntk']]);
    expect(() => readHParams(meta as never, 'x')).toThrow(expect.objectContaining({
      code: 'UNSUPPORTED_ARCH', message: expect.stringMatching(/'dynamic-ntk' rope scaling.*linear, yarn, longrope/),
    }));
    meta.set('x.rope.scaling.type', 'yarn');
    expect(readHParams(meta as never, 'x').ropeScalingType).toBe('yarn');
  });
});
