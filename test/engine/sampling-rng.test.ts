import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/rng.ts';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const seq = (seed: number): number[] => {
      const r = new Rng(seed);
      return Array.from({ length: 64 }, () => r.nextUint32());
    };
    expect(seq(1)).toEqual(seq(1));
    expect(seq(1)).not.toEqual(seq(2));
    // Seeds above 2^32 use their high bits too.
    expect(seq(2 ** 40)).not.toEqual(seq(0));
    const r = new Rng(5);
    const a = [r.nextFloat(), r.nextFloat()];
    r.reseed(5);
    expect([r.nextFloat(), r.nextFloat()]).toEqual(a);
  });

  it('gives uniform floats in [0, 1) and uniform 32-bit words', () => {
    const r = new Rng(123);
    const N = 64_000;
    const buckets = new Array(16).fill(0);
    let sum = 0;
    for (let i = 0; i < N; i++) {
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      sum += f;
      buckets[r.nextUint32() >>> 28]++;
    }
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(0.005); // sd of the mean ≈ 0.0011
    const e = N / 16;
    const chi2 = buckets.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(37.7); // χ² with 15 dof, p ≈ 0.001
  });

  it('rejects invalid seeds and draws a random seed when none is given', () => {
    expect(() => new Rng(-1)).toThrow(/seed/);
    expect(() => new Rng(Number.NaN)).toThrow(/seed/);
    expect(new Rng().seed).not.toBe(new Rng().seed);
  });
});
