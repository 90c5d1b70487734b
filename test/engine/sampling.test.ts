import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/shared/errors.ts';
import { DEFAULT_SAMPLING, Sampler, resolveSamplingParams, type SamplingParams } from '../../src/engine/sampling.ts';

const OFF: Partial<SamplingParams> = { topK: 0, topP: 1, minP: 0, repeatPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };

// Sorted by logit: id1 3.0, id4 3.0, id6 2.5, id2 2.0, id0 1.0, id3 0.5, id7 0.0, id5 -1.0.
// Softmax (T=1) numerators e^(x-3): 1, 1, e^-.5, e^-1, e^-2, e^-2.5, e^-3, e^-4; sum 3.25993309.
// Cumulative mass of the sorted prefix: .30676, .61353, .79958, .91243, .95394, ...
const L8 = Float32Array.of(1.0, 3.0, 2.0, 0.5, 3.0, -1.0, 2.5, 0.0);

const kept = (params: Partial<SamplingParams>, logits = L8): number[] =>
  Array.from(new Sampler({ ...OFF, temperature: 1, ...params }, logits.length).candidates(logits).ids);

describe('Sampler: greedy', () => {
  it('temperature 0 picks the argmax, ties to the lowest id', () => {
    const s = new Sampler({ temperature: 0 }, 8);
    expect(s.sample(L8)).toBe(1); // ids 1 and 4 tie at 3.0
    expect(new Sampler({ temperature: 0 }, 4).sample(Float32Array.of(-5, -2, -2, -9))).toBe(1);
    expect(new Sampler({ temperature: -1 }, 3).sample(Float32Array.of(0, 0, 7))).toBe(2);
  });

  it('applies penalties before the argmax', () => {
    const s = new Sampler({ ...OFF, temperature: 0, repeatPenalty: 2 }, 2);
    expect(s.sample(Float32Array.of(2, 1.5))).toBe(0);
    s.accept(0); // 2 / 2 = 1 < 1.5
    expect(s.sample(Float32Array.of(2, 1.5))).toBe(1);
  });

  it('does not modify the caller\'s logits', () => {
    const s = new Sampler({ ...OFF, temperature: 0.7, repeatPenalty: 1.3 }, 8);
    s.accept(1);
    const copy = L8.slice();
    s.sample(copy);
    expect(copy).toEqual(L8);
  });
});

describe('Sampler: filters keep exactly the hand-computed sets', () => {
  it('top-k', () => {
    expect(kept({ topK: 3 })).toEqual([1, 4, 6]);
    expect(kept({ topK: 1 })).toEqual([1]);
    expect(kept({ topK: 100 })).toEqual([1, 4, 6, 2, 0, 3, 7, 5]);
  });

  it('top-p keeps the shortest prefix reaching p', () => {
    expect(kept({ topP: 0.79 })).toEqual([1, 4, 6]); // .79958 ≥ .79
    expect(kept({ topP: 0.8 })).toEqual([1, 4, 6, 2]); // .79958 < .8
    expect(kept({ topP: 0.3 })).toEqual([1]);
    expect(kept({ topP: 0 })).toEqual([1]);
  });

  it('min-p keeps p ≥ minP·p_max', () => {
    expect(kept({ minP: 0.3 })).toEqual([1, 4, 6, 2]); // logit ≥ 3 + ln .3 = 1.796
    expect(kept({ minP: 0.5 })).toEqual([1, 4, 6]); // logit ≥ 2.307
    expect(kept({ minP: 1 })).toEqual([1, 4]);
  });

  it('top-k runs before top-p, which renormalizes over the top-k set', () => {
    // Top-5 mass: 1, 1, .60653, .36788, .13534 (sum 3.10975); cumulative .32157, .64314, .83818.
    expect(kept({ topK: 5, topP: 0.83 })).toEqual([1, 4, 6]);
    expect(kept({ topP: 0.83 })).toEqual([1, 4, 6, 2]);
  });

  it('min-p runs after top-p', () => {
    expect(kept({ topP: 0.95, minP: 0.5 })).toEqual([1, 4, 6]);
    expect(kept({ topK: 2, minP: 0.9 })).toEqual([1, 4]);
  });

  it('temperature reshapes the final probabilities only', () => {
    const c = new Sampler({ ...OFF, topK: 3, temperature: 0.5 }, 8).candidates(L8);
    // weights e^((x-3)/0.5): 1, 1, e^-1
    const z = 2 + Math.exp(-1);
    expect(Array.from(c.ids)).toEqual([1, 4, 6]);
    expect(c.probs[0]).toBeCloseTo(1 / z, 12);
    expect(c.probs[2]).toBeCloseTo(Math.exp(-1) / z, 12);
  });

  it('heap top-k equals a full sort on a large random vocab with ties', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const V = 50_000;
    const logits = Float32Array.from({ length: V }, () => Math.round(rand() * 2000) / 100); // many ties
    const ref = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    for (const k of [1, 40, 200]) expect(kept({ topK: k }, logits)).toEqual(ref.slice(0, k));
    const all = kept({ topP: 0.5 }, logits);
    expect(all).toEqual(ref.slice(0, all.length));
  });
});

describe('Sampler: penalties', () => {
  it('repetition (llama.cpp) then frequency/presence (OpenAI), hand-computed', () => {
    const s = new Sampler({ ...OFF, repeatPenalty: 2, frequencyPenalty: 0.5, presencePenalty: 0.25 }, 4);
    for (const id of [0, 1, 0]) s.accept(id);
    const x = s.penalized(Float32Array.of(2, -1, 0.5, 3));
    // id0: 2/2 - 2·0.5 - 0.25 = -0.25; id1: -1·2 - 1·0.5 - 0.25 = -2.75; others untouched
    expect(Array.from(x)).toEqual([-0.25, -2.75, 0.5, 3]);
  });

  it('only the last repeatLastN tokens count', () => {
    const s = new Sampler({ ...OFF, repeatPenalty: 2, repeatLastN: 2 }, 4);
    for (const id of [0, 1, 2, 2]) s.accept(id); // window now [2, 2]
    expect(Array.from(s.penalized(Float32Array.of(4, 4, 4, 4)))).toEqual([4, 4, 2, 4]);
    s.accept(3); // window [2, 3]
    expect(Array.from(s.penalized(Float32Array.of(4, 4, 4, 4)))).toEqual([4, 4, 2, 2]);
    s.reset();
    expect(Array.from(s.penalized(Float32Array.of(4, 4, 4, 4)))).toEqual([4, 4, 4, 4]);
  });

  it('repeatLastN 0 turns penalties off', () => {
    const s = new Sampler({ ...OFF, repeatPenalty: 2, frequencyPenalty: 1, repeatLastN: 0 }, 2);
    s.accept(0);
    expect(Array.from(s.penalized(Float32Array.of(1, 1)))).toEqual([1, 1]);
  });
});

describe('Sampler: seeded draws', () => {
  const draws = (seed: number | undefined, n = 200): number[] => {
    const s = new Sampler({ ...OFF, temperature: 1, seed }, 8);
    return Array.from({ length: n }, () => s.sample(L8));
  };

  it('same seed → same sequence; different seeds differ; reset replays', () => {
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
    const s = new Sampler({ ...OFF, temperature: 1, seed: 7 }, 8);
    const a = Array.from({ length: 50 }, () => s.sample(L8));
    s.reset();
    expect(Array.from({ length: 50 }, () => s.sample(L8))).toEqual(a);
  });

  it('no seed → a random one, reported for reproduction', () => {
    const a = new Sampler({}, 8);
    const b = new Sampler({}, 8);
    expect(a.seed).not.toBe(b.seed);
    expect(draws(a.seed)).toEqual(draws(a.seed));
  });

  it('20k draws at temperature 1 match the softmax', () => {
    const logits = Float32Array.of(0.3, -1.2, 2.0, 1.1, 0.0, -0.4);
    const max = 2.0;
    const e = Array.from(logits, (v) => Math.exp(v - max));
    const z = e.reduce((a, b) => a + b, 0);
    const N = 20_000;
    const counts = new Array(6).fill(0);
    const s = new Sampler({ ...OFF, temperature: 1, seed: 2024 }, 6);
    for (let i = 0; i < N; i++) counts[s.sample(logits)]++;
    let chi2 = 0;
    for (let i = 0; i < 6; i++) {
      const p = e[i] / z;
      expect(Math.abs(counts[i] / N - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / N));
      chi2 += (counts[i] - N * p) ** 2 / (N * p);
    }
    expect(chi2).toBeLessThan(20.5); // χ² with 5 dof, p ≈ 0.001
  });

  it('draws follow candidates() after filters and temperature', () => {
    const params = { topK: 5, topP: 0.9, minP: 0.2, temperature: 0.7, seed: 99 };
    const s = new Sampler(params, 8);
    const c = s.candidates(L8);
    const N = 20_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const id = s.sample(L8);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(Array.from(c.ids).sort());
    c.ids.forEach((id, i) => {
      const p = c.probs[i];
      expect(Math.abs(counts.get(id)! / N - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / N));
    });
  });

  it('samples a 128k vocab with default params from its 40 most likely tokens only', () => {
    // the speed of this path is bench/host-paths.ts' (npm run bench), not a bound here
    const V = 128_256;
    const logits = Float32Array.from({ length: V }, (_, i) => Math.sin(i * 12.9898) * 8);
    const top = new Set([...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 40));
    const draws = (seed: number) => { const s = new Sampler({ seed }, V); return Array.from({ length: 100 }, () => { const id = s.sample(logits); s.accept(id); return id; }); };
    const a = draws(1);
    expect(a.every((id) => top.has(id))).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(5);
    expect(draws(1)).toEqual(a);
  });
});

describe('Sampler: validation', () => {
  const bad = (p: Partial<SamplingParams>, vocab = 8): void => {
    expect(() => new Sampler(p, vocab)).toThrowError(EngineError);
    try {
      new Sampler(p, vocab);
    } catch (e) {
      expect((e as EngineError).code).toBe('BAD_ARGUMENT');
    }
  };

  it('rejects NaN, negative and out-of-range values', () => {
    bad({ temperature: NaN });
    bad({ temperature: Infinity });
    bad({ topK: -1 });
    bad({ topK: 2.5 });
    bad({ topP: 1.5 });
    bad({ topP: NaN });
    bad({ minP: -0.1 });
    bad({ repeatPenalty: 0 });
    bad({ repeatPenalty: NaN });
    bad({ repeatLastN: -1 });
    bad({ frequencyPenalty: 3 });
    bad({ presencePenalty: NaN });
    bad({ seed: -1 });
    bad({ seed: 1.5 });
    bad({}, 0);
  });

  it('rejects wrong logits length and out-of-vocab ids', () => {
    const s = new Sampler({}, 8);
    expect(() => s.sample(new Float32Array(7))).toThrow(/expected 8 logits/);
    expect(() => s.accept(8)).toThrow(/outside the vocabulary/);
    expect(() => s.accept(-1)).toThrow(EngineError);
  });

  it('defaults are llama.cpp-like and fill in missing fields', () => {
    expect(DEFAULT_SAMPLING).toMatchObject({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, repeatLastN: 64 });
    expect(resolveSamplingParams({ topK: 5, temperature: undefined })).toMatchObject({ topK: 5, temperature: 0.8 });
  });
});
