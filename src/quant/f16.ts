import { f16Table32, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// F16: little-endian IEEE half floats, one value per "block".
export const F16_BLOCK_SIZE = 1;
export const F16_TYPE_SIZE = 2;

export const f16Traits: FormatTraits = {
  type: GGMLType.F16,
  id: 'f16',
  blockSize: F16_BLOCK_SIZE,
  typeSize: F16_TYPE_SIZE,
  dequantize(src, offset, nBlocks, dst, dstOffset) {
    const table = f16Table32();
    for (let i = 0, o = offset; i < nBlocks; i++, o += 2) dst[dstOffset + i] = table[src[o] | (src[o + 1] << 8)];
  },
  quantize(src, srcOffset, nBlocks, dst, dstOffset) {
    for (let i = 0; i < nBlocks; i++) writeF16(dst, dstOffset + 2 * i, src[srcOffset + i]);
  },
};
