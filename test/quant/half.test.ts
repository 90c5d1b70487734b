import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16Table32, f16ToF32, f32ToBF16, f32ToF16 } from '../../src/quant/half.ts';

// Independent f32 ↔ bits helpers (DataView, not the module's own buffers).
function bitsOf(x: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x);
  return v.getUint32(0);
}
function fromBits(u: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, u >>> 0);
  return v.getFloat32(0);
}

/** Deterministic f32 samples covering every exponent, including subnormals and ties. */
function samples(): number[] {
  const out: number[] = [];
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 20000; i++) {
    const exp = Math.floor(rnd() * 60) + 90; // 2^-37 .. 2^22: f16 underflow, subnormal, normal, overflow
    const mant = Math.floor(rnd() * 0x800000);
    const tie = i % 4 === 0 ? (mant & ~0x1fff) | 0x1000 : mant; // exact f16 halfway cases
    out.push(fromBits(((i & 1) << 31) | (exp << 23) | tie));
  }
  return out;
}

describe('f16', () => {
  it('decodes hand-known bit patterns', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7e00)).toBeNaN();
  });

  it('the decode table agrees with the scalar decoder for all 65536 patterns', () => {
    const t = f16Table32();
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = f16ToF32(h);
      if (Number.isNaN(want) ? !Number.isNaN(t[h]) : t[h] !== want) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('encodes hand-known values with round-to-nearest-even', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff); // just below the midpoint to 2^16
    expect(f32ToF16(65520)).toBe(0x7c00); // midpoint ties to even = inf
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie, 0x3c00 is even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, rounds up to even
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 → even
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400); // subnormal rounds up into the smallest normal
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(1e-10)).toBe(0);
    const nan = f32ToF16(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
  });

  it('round-trips every finite f16', () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
      if (f32ToF16(f16ToF32(h)) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('picks the nearest f16 (ties to even) for sampled f32 values', () => {
    const bad: number[] = [];
    for (const x of samples()) {
      const h = f32ToF16(x);
      const err = Math.abs(f16ToF32(h) - x);
      const mag = h & 0x7fff;
      if (mag === 0x7c00) {
        if (Math.abs(x) < 65520) bad.push(x);
        continue;
      }
      // the neighbours (same sign) must not be closer; on a tie the even one wins
      for (const nb of [mag - 1, mag + 1]) {
        if (nb < 0 || nb >= 0x7c00) continue;
        const e2 = Math.abs(f16ToF32(nb | (h & 0x8000)) - x);
        if (e2 < err || (e2 === err && (mag & 1) === 1)) bad.push(x);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('bf16', () => {
  it('encodes and decodes hand-known values', () => {
    expect(f32ToBF16(1)).toBe(0x3f80);
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc0a0)).toBe(-5);
    expect(f32ToBF16(fromBits(0x3f808000))).toBe(0x3f80); // tie → even
    expect(f32ToBF16(fromBits(0x3f818000))).toBe(0x3f82); // tie → even (up)
    expect(f32ToBF16(fromBits(0x3f808001))).toBe(0x3f81);
    expect(f32ToBF16(fromBits(0x00018000))).toBe(0x0002); // subnormal tie → even, not flushed
    expect(f32ToBF16(fromBits(0x7f7fffff))).toBe(0x7f80); // rounds to inf
    const nan = f32ToBF16(fromBits(0x7f800001)); // signalling NaN stays NaN and becomes quiet
    expect(nan & 0x7f80).toBe(0x7f80);
    expect(nan & 0x40).toBe(0x40);
  });

  it('is the nearest bf16 (ties to even) for sampled f32 values, and exact on the way back', () => {
    const bad: number[] = [];
    for (const x of samples()) {
      const u = bitsOf(x);
      const h = f32ToBF16(x);
      const lo = u >>> 16;
      const rem = u & 0xffff;
      const want = rem > 0x8000 || (rem === 0x8000 && (lo & 1)) ? lo + 1 : lo;
      if (h !== want || bitsOf(bf16ToF32(h)) !== ((h << 16) >>> 0)) bad.push(x);
    }
    expect(bad).toEqual([]);
  });
});
