// Degenerate inputs llama.cpp's quantizers special-case (all-zero and constant blocks).
import { describe, expect, it } from 'vitest';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';

function roundTrip(id: string, x: Float32Array): Float32Array {
  const t = [...FORMAT_TRAITS.values()].find((v) => v.id === id)!;
  const nBlocks = x.length / t.blockSize;
  const bytes = new Uint8Array(nBlocks * t.typeSize).fill(0xaa); // stale bytes must be overwritten
  t.quantize!(x, 0, nBlocks, bytes, 0);
  const y = new Float32Array(x.length);
  t.dequantize(bytes, 0, nBlocks, y, 0);
  return y;
}

describe('quantizers on degenerate blocks', () => {
  for (const t of FORMAT_TRAITS.values()) {
    it(`${t.id}: zeros stay zeros; a constant block stays finite and close`, () => {
      const n = 512;
      expect(Array.from(roundTrip(t.id, new Float32Array(n))).every((v) => v === 0)).toBe(true);
      for (const c of [0.75, -0.75]) {
        const y = roundTrip(t.id, new Float32Array(n).fill(c));
        // only the f16 rounding of scales/mins (2^-11 relative, times a few levels) may show
        for (const v of y) expect(Math.abs(v - c)).toBeLessThanOrEqual(1e-3 * Math.abs(c));
      }
    });
  }
});
