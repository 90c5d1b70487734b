// Seeded PRNG for sampling: xoshiro128** (fast, 32-bit state words, good statistical quality),
// seeded through splitmix32 so that small or similar seeds still give unrelated streams.

import { check } from '../shared/assert.ts';

/** Largest seed accepted: seeds are split into two 32-bit halves, so keep them exact in a double. */
const MAX_SEED = Number.MAX_SAFE_INTEGER;

export class Rng {
  readonly seed: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Same seed → same sequence. Without a seed a random one is drawn (readable back via `seed`). */
  constructor(seed?: number) {
    if (seed !== undefined) {
      check(Number.isSafeInteger(seed) && seed >= 0 && seed <= MAX_SEED, 'BAD_ARGUMENT',
        `seed must be a non-negative integer up to ${MAX_SEED}, got ${seed}`);
    }
    this.seed = seed ?? randomSeed();
    this.reseed(this.seed);
  }

  /** Restarts the sequence from `seed`. */
  reseed(seed: number): void {
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // An all-zero state would only ever emit zeros.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function randomSeed(): number {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) {
    const w = c.getRandomValues(new Uint32Array(2));
    return (w[0] & 0x1fffff) * 2 ** 32 + w[1];
  }
  return Math.floor(Math.random() * MAX_SEED);
}
