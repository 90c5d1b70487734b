import { describe, expect, it } from 'vitest';
import { EngineError, UnsupportedError } from '../../src/shared/errors.ts';
import { dequantizeTensor, FORMAT_TRAITS, getTraits, tensorByteSize } from '../../src/quant/traits.ts';
import { GGMLType } from '../../src/quant/types.ts';

// ggml's type_traits table (ggml.c): [id, name, blck_size, type_size].
const GGML: [number, string, number, number][] = [
  [0, 'f32', 1, 4], [1, 'f16', 1, 2], [30, 'bf16', 1, 2], [8, 'q8_0', 32, 34],
  [2, 'q4_0', 32, 18], [3, 'q4_1', 32, 20], [6, 'q5_0', 32, 22], [7, 'q5_1', 32, 24],
  [10, 'q2_k', 256, 84], [11, 'q3_k', 256, 110], [12, 'q4_k', 256, 144], [13, 'q5_k', 256, 176], [14, 'q6_k', 256, 210],
  [20, 'iq4_nl', 32, 18], [23, 'iq4_xs', 256, 136],
  // our own MLC-LLM blocks (never in a GGUF)
  [1000, 'mlc_q4f16', 32, 18], [1001, 'mlc_q4f32', 32, 20],
];

function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('FORMAT_TRAITS', () => {
  it('lists exactly the 17 supported formats (15 ggml ones, 2 MLC blocks) with ggml block facts', () => {
    const got = [...FORMAT_TRAITS.values()].map((t) => [t.type, t.id, t.blockSize, t.typeSize]);
    expect(got.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([...GGML].sort((a, b) => a[0] - b[0]));
    for (const [type, t] of FORMAT_TRAITS) expect(t.type).toBe(type);
  });

  it('has a quantizer for every format', () => {
    for (const t of FORMAT_TRAITS.values()) expect(typeof t.quantize, t.id).toBe('function');
  });
});

describe('getTraits', () => {
  it('returns the traits of supported types', () => {
    expect(getTraits(GGMLType.Q4_K, 'x').id).toBe('q4_k');
  });

  it('names the tensor, the type and the supported list for unsupported types', () => {
    for (const type of [GGMLType.IQ2_XXS, GGMLType.IQ3_S, GGMLType.IQ1_M, GGMLType.TQ1_0, GGMLType.Q8_1, GGMLType.MXFP4, GGMLType.Q8_K, GGMLType.I32]) {
      const e = thrown(() => getTraits(type, 'blk.0.ffn_down.weight'));
      expect(e).toBeInstanceOf(UnsupportedError);
      expect(e.code).toBe('UNSUPPORTED_TYPE');
      expect(e.message).toContain("tensor 'blk.0.ffn_down.weight'");
      expect(e.message).toContain('does not support');
      expect(e.message).toContain('F32, F16');
      expect(e.message).toContain('Q6_K');
      expect(e.message).toContain('IQ4_XS');
    }
    expect(thrown(() => getTraits(GGMLType.IQ2_XXS, 'blk.0.ffn_down.weight')).message).toMatch(/^tensor 'blk\.0\.ffn_down\.weight' uses IQ2_XXS, which/);
    expect(thrown(() => getTraits(99, 't')).message).toContain('type#99');
  });
});

describe('tensorByteSize', () => {
  it('multiplies whole blocks by the block byte size', () => {
    expect(tensorByteSize(GGMLType.Q4_K, 4096 * 256, 'w')).toBe(4096 * 144);
    expect(tensorByteSize(GGMLType.Q8_0, 64, 'w')).toBe(68);
    expect(tensorByteSize(GGMLType.F16, 3, 'w')).toBe(6);
    expect(tensorByteSize(GGMLType.Q6_K, 0, 'w')).toBe(0);
  });

  it('rejects element counts that do not fill whole blocks, naming the tensor', () => {
    const e = thrown(() => tensorByteSize(GGMLType.Q4_0, 48, 'blk.3.attn_q.weight'));
    expect(e.code).toBe('BAD_SHAPE');
    expect(e.message).toContain("'blk.3.attn_q.weight'");
    expect(e.message).toContain('32');
    expect(thrown(() => tensorByteSize(GGMLType.Q4_0, -32, 't')).code).toBe('BAD_SHAPE');
    expect(thrown(() => tensorByteSize(GGMLType.IQ3_XXS, 256, 't')).code).toBe('UNSUPPORTED_TYPE');
  });
});

describe('dequantizeTensor', () => {
  it('decodes a whole tensor and rejects short data', () => {
    // two q8_0 blocks: d = 1.0 (0x3c00), then d = 0.5 (0x3800)
    const bytes = new Uint8Array(68);
    bytes.set([0x00, 0x3c, 5, 0xfb], 0); // 5, -5
    bytes.set([0x00, 0x38, 4], 34);
    const out = dequantizeTensor(GGMLType.Q8_0, bytes, 64, 'w');
    expect([out[0], out[1], out[2], out[32], out[33]]).toEqual([5, -5, 0, 2, 0]);
    expect(thrown(() => dequantizeTensor(GGMLType.Q8_0, bytes.subarray(0, 67), 64, 'w')).code).toBe('BAD_SHAPE');
  });
});
