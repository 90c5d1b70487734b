import { f } from './float-ops.ts';
import { f16ToF32, f32ToF16, readF16, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// MLC-LLM's q4f16_1 / q4f32_1 group quantization (mlc_llm/quantization/group_quantization.py) as
// blocks of our own: 32 values along K = scale · (q − 7), q unsigned 4-bit in 0..14. MLC stores
// q_weight [N, K/8] u32 (eight values per word, low nibble first) apart from q_scale [N, K/32];
// the MLC folder adapter interleaves one group's scale and its four words into one block at read
// time, so backends see one tensor. Byte j of qs holds element 2j (low nibble) and 2j + 1 (high).
// The type ids lie outside ggml's range: these blocks exist only in memory, never in a GGUF.
export const MLC_Q4_BLOCK_SIZE = 32;
/** f16 scale + 16 bytes of nibbles */
export const MLC_Q4F16_TYPE_SIZE = 18;
/** f32 scale + 16 bytes of nibbles */
export const MLC_Q4F32_TYPE_SIZE = 20;
/** MLC's max_int_value for 4 bits */
export const MLC_Q4_MAX_INT = 7;

type Scalar = 'f16' | 'f32';

/** The model dtype's arithmetic: every TVM op rounds to it. */
function rounder(s: Scalar): (x: number) => number {
  return s === 'f16' ? (x) => f16ToF32(f32ToF16(x)) : f;
}

function makeTraits(type: GGMLType, id: string, scalar: Scalar): FormatTraits {
  const ss = scalar === 'f16' ? 2 : 4;
  const typeSize = ss + 16;
  const readScale = (b: Uint8Array, o: number) => (scalar === 'f16' ? readF16(b, o)
    : new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat32(o, true));
  const writeScale = (b: Uint8Array, o: number, x: number) => (scalar === 'f16' ? writeF16(b, o, x)
    : new DataView(b.buffer, b.byteOffset, b.byteLength).setFloat32(o, x, true));
  const r = rounder(scalar);
  return {
    type,
    id,
    blockSize: MLC_Q4_BLOCK_SIZE,
    typeSize,
    dequantize(src, offset, nBlocks, dst, dstOffset) {
      for (let b = 0; b < nBlocks; b++) {
        const o = offset + b * typeSize;
        const d = readScale(src, o);
        const y = dstOffset + b * MLC_Q4_BLOCK_SIZE;
        for (let j = 0; j < 16; j++) {
          const q = src[o + ss + j];
          dst[y + 2 * j] = ((q & 0x0f) - MLC_Q4_MAX_INT) * d;
          dst[y + 2 * j + 1] = ((q >> 4) - MLC_Q4_MAX_INT) * d;
        }
      }
    },
    // MLC's _quantize in the model dtype: scale = max|w| / 7, q = clip(round(w / scale + 7), 0, 14)
    // (TVM's round is nearbyint: ties to even). The input is taken as already in the model dtype.
    quantize(src, srcOffset, nBlocks, dst, dstOffset) {
      for (let b = 0; b < nBlocks; b++) {
        const x = srcOffset + b * MLC_Q4_BLOCK_SIZE;
        const o = dstOffset + b * typeSize;
        let max = 0;
        for (let j = 0; j < 32; j++) max = Math.max(max, Math.abs(r(src[x + j])));
        const scale = r(max / MLC_Q4_MAX_INT);
        writeScale(dst, o, scale);
        for (let j = 0; j < 16; j++) {
          const q = (v: number) => {
            const t = scale === 0 ? MLC_Q4_MAX_INT : roundEven(r(r(r(v) / scale) + MLC_Q4_MAX_INT));
            return Math.min(2 * MLC_Q4_MAX_INT, Math.max(0, t));
          };
          dst[o + ss + j] = q(src[x + 2 * j]) | (q(src[x + 2 * j + 1]) << 4);
        }
      }
    },
  };
}

function roundEven(v: number): number {
  const fl = Math.floor(v);
  const d = v - fl;
  if (d !== 0.5) return Math.round(v);
  return fl % 2 === 0 ? fl : fl + 1;
}

export const mlcQ4f16Traits = makeTraits(GGMLType.MLC_Q4F16, 'mlc_q4f16', 'f16');
export const mlcQ4f32Traits = makeTraits(GGMLType.MLC_Q4F32, 'mlc_q4f32', 'f32');
