// Blocks written by llama.cpp's llama-quantize (fixtures/quant/README.md) dequantized with our
// reference code, against the F32 parent they were quantized from.
import { beforeAll, describe, expect, it } from 'vitest';
import { f32ToBF16, f32ToF16 } from '../../src/quant/half.ts';
import { dequantizeTensor } from '../../src/quant/traits.ts';
import { GGMLType, ggmlTypeName } from '../../src/quant/types.ts';
import { loadParent, loadTensors, relRms } from './fixture-tensors.ts';

// Relative RMS error bound per block format. Expected error for Gaussian-like weights is about
// (step / √12) / rms: Q8_0 ≈ 0.5%, Q6_K ≈ 1.8%, 5-bit ≈ 4%, 4-bit ≈ 7–9%, Q3_K ≈ 15%, Q2_K ≈ 30%
// (measured on these files: ≤ 0.54%, 1.79%, 4.3%, 8.6%, 15.2%, 29.9%; IQ4_NL / IQ4_XS 7.6% / 7.7%).
// The bounds leave ~10% headroom; a swapped nibble, wrong scale index or misplaced high bit costs
// far more than that.
const BOUND: Partial<Record<GGMLType, number>> = {
  [GGMLType.Q8_0]: 0.006,
  [GGMLType.Q6_K]: 0.02,
  [GGMLType.Q5_K]: 0.04,
  [GGMLType.Q5_1]: 0.042,
  [GGMLType.Q5_0]: 0.047,
  [GGMLType.Q4_K]: 0.079,
  [GGMLType.Q4_1]: 0.086,
  [GGMLType.Q4_0]: 0.095,
  [GGMLType.Q3_K]: 0.168,
  [GGMLType.Q2_K]: 0.33,
  [GGMLType.IQ4_NL]: 0.085,
  [GGMLType.IQ4_XS]: 0.085,
};

// Which quantized types each file must contain (the K "mixes" pick a type per tensor).
const FILES: [string, GGMLType[], string?][] = [
  ['Q8_0', [GGMLType.Q8_0]],
  ['Q4_0', [GGMLType.Q4_0, GGMLType.Q6_K]],
  ['Q4_1', [GGMLType.Q4_1, GGMLType.Q6_K]],
  ['Q5_0', [GGMLType.Q5_0, GGMLType.Q6_K]],
  ['Q5_1', [GGMLType.Q5_1, GGMLType.Q6_K]],
  ['Q2_K', [GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q6_K]],
  ['Q3_K_M', [GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]],
  ['Q4_K_M', [GGMLType.Q4_K, GGMLType.Q6_K]],
  ['Q5_K_M', [GGMLType.Q5_K, GGMLType.Q6_K]],
  ['Q6_K', [GGMLType.Q6_K]],
  ['IQ4_NL', [GGMLType.IQ4_NL, GGMLType.Q6_K], 'arch'],
  ['IQ4_XS', [GGMLType.IQ4_XS, GGMLType.Q6_K], 'arch'],
];

let parent: Map<string, Float32Array>;
beforeAll(async () => {
  parent = await loadParent();
});

describe('llama.cpp-quantized fixtures dequantize close to their F32 parent', () => {
  for (const [fmt, types, dir] of FILES) {
    it(`dev-llama.${fmt}.gguf`, async () => {
      const tensors = await loadTensors(`dev-llama.${fmt}.gguf`, dir);
      expect(tensors.length).toBe(parent.size);
      const seen = new Set<number>();
      for (const t of tensors) {
        const ours = dequantizeTensor(t.type, t.bytes, t.nElements, t.name);
        const want = parent.get(t.name)!;
        if (t.type === GGMLType.F32) {
          expect(ours, t.name).toEqual(want);
          continue;
        }
        seen.add(t.type);
        const err = relRms(ours, want);
        expect(err, `${t.name} (${ggmlTypeName(t.type)})`).toBeLessThan(BOUND[t.type as GGMLType]!);
      }
      expect([...seen].sort((a, b) => a - b)).toEqual([...types].sort((a, b) => a - b));
    });
  }

  for (const [fmt, encode] of [['F16', f32ToF16], ['BF16', f32ToBF16]] as const) {
    it(`dev-llama.${fmt}.gguf holds exactly the rounded parent, and decodes to it`, async () => {
      for (const t of await loadTensors(`dev-llama.${fmt}.gguf`)) {
        const want = parent.get(t.name)!;
        const ours = dequantizeTensor(t.type, t.bytes, t.nElements, t.name);
        if (t.type === GGMLType.F32) {
          expect(ours, t.name).toEqual(want);
          continue;
        }
        expect(ggmlTypeName(t.type)).toBe(fmt);
        let encodeMismatch = 0;
        let decodeMismatch = 0;
        for (let i = 0; i < want.length; i++) {
          const bits = t.bytes[2 * i] | (t.bytes[2 * i + 1] << 8);
          if (bits !== encode(want[i])) encodeMismatch++;
          if (bits !== encode(ours[i])) decodeMismatch++; // decoding is exact, so it re-encodes to itself
        }
        expect(encodeMismatch, t.name).toBe(0);
        expect(decodeMismatch, t.name).toBe(0);
        expect(relRms(ours, want), t.name).toBeLessThan(fmt === 'F16' ? 3e-4 : 2e-3);
      }
    });
  }
});
