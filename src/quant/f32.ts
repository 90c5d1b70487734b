import { GGMLType, type FormatTraits } from './types.ts';

// F32: plain little-endian IEEE floats, one value per "block".
export const F32_BLOCK_SIZE = 1;
export const F32_TYPE_SIZE = 4;

export const f32Traits: FormatTraits = {
  type: GGMLType.F32,
  id: 'f32',
  blockSize: F32_BLOCK_SIZE,
  typeSize: F32_TYPE_SIZE,
  dequantize(src, offset, nBlocks, dst, dstOffset) {
    const view = new DataView(src.buffer, src.byteOffset + offset, nBlocks * 4);
    for (let i = 0; i < nBlocks; i++) dst[dstOffset + i] = view.getFloat32(i * 4, true);
  },
  quantize(src, srcOffset, nBlocks, dst, dstOffset) {
    const view = new DataView(dst.buffer, dst.byteOffset + dstOffset, nBlocks * 4);
    for (let i = 0; i < nBlocks; i++) view.setFloat32(i * 4, src[srcOffset + i], true);
  },
};
