// Sampling from the device's top-k candidates must choose exactly what sampling from the full
// logits chooses (same seed → same tokens), so the GPU path can read back k pairs per token.
import { describe, expect, it } from 'vitest';
import { Sampler, type SamplingParams } from '../../src/engine/sampling.ts';
import { Rng } from '../../src/engine/rng.ts';

/** What the device returns: the k largest logits, largest first, ties → lower id first. */
function topK(x: Float32Array, k: number): { ids: number[]; values: number[] } {
  const order = [...x.keys()].sort((a, b) => x[b] - x[a] || a - b).slice(0, k);
  return { ids: order, values: order.map((i) => x[i]) };
}

function randomLogits(rng: Rng, n: number): Float32Array {
  // coarse values so that ties happen
  return Float32Array.from({ length: n }, () => Math.round((rng.nextFloat() * 2 - 1) * 40) / 4);
}

describe('Sampler.sampleTop', () => {
  const cases: Partial<SamplingParams>[] = [
    { temperature: 0 },
    { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, seed: 1 },
    { temperature: 1.3, topK: 5, topP: 1, minP: 0, seed: 2 },
    { temperature: 0.5, topK: 100, topP: 0.5, minP: 0.2, seed: 3 },
  ];
  for (const params of cases) {
    it(`matches full-logit sampling for ${JSON.stringify(params)}`, () => {
      const vocab = 3000;
      const full = new Sampler(params, vocab);
      const top = new Sampler(params, vocab);
      const rng = new Rng(99);
      for (let step = 0; step < 300; step++) {
        const x = randomLogits(rng, vocab);
        const k = top.candidatesNeeded();
        expect(k).toBe(params.temperature === 0 ? 1 : params.topK);
        const c = topK(x, k);
        const a = full.sample(x);
        expect(top.sampleTop(c.ids, c.values)).toBe(a);
        full.accept(a);
        top.accept(a);
      }
    });
  }

  it('asks for the full logits when a penalty applies or top-k is off', () => {
    const withPenalty = new Sampler({ temperature: 0, repeatPenalty: 1.1 }, 100);
    expect(withPenalty.candidatesNeeded()).toBe(1); // nothing seen yet: the penalty changes nothing
    withPenalty.accept(5);
    expect(withPenalty.candidatesNeeded()).toBe(0);
    expect(new Sampler({ temperature: 0.7, topK: 0 }, 100).candidatesNeeded()).toBe(0);
    expect(new Sampler({ temperature: 0.7, topK: 500 }, 100).candidatesNeeded()).toBe(100);
    expect(() => new Sampler({ temperature: 0.7, topK: 4 }, 100).sampleTop([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toThrow(/candidates/);
  });
});
