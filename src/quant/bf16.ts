import { bf16ToF32, f32ToBF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// BF16: little-endian bfloat16 (the top 16 bits of an f32), one value per "block".
export const BF16_BLOCK_SIZE = 1;
export const BF16_TYPE_SIZE = 2;

export const bf16Traits: FormatTraits = {
  type: GGMLType.BF16,
  id: 'bf16',
  blockSize: BF16_BLOCK_SIZE,
  typeSize: BF16_TYPE_SIZE,
  dequantize(src, offset, nBlocks, dst, dstOffset) {
    for (let i = 0, o = offset; i < nBlocks; i++, o += 2) dst[dstOffset + i] = bf16ToF32(src[o] | (src[o + 1] << 8));
  },
  quantize(src, srcOffset, nBlocks, dst, dstOffset) {
    for (let i = 0; i < nBlocks; i++) {
      const h = f32ToBF16(src[srcOffset + i]);
      dst[dstOffset + 2 * i] = h & 0xff;
      dst[dstOffset + 2 * i + 1] = h >>> 8;
    }
  },
};
