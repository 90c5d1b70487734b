import { f, largestMagnitude } from './float-ops.ts';
import { readU32, writeU32 } from './bytes.ts';
import { readF16, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q5_0: 32 values = d · (q − 16), q unsigned 5-bit.
// Low 4 bits as in q4_0 (byte j: element j low nibble, element j + 16 high nibble);
// bit 4 of element i is bit i of the little-endian u32 qh.
export const Q5_0_BLOCK_SIZE = 32;
export const Q5_0_TYPE_SIZE = 22;
/** f16 scale */
export const Q5_0_D = 0;
/** 4 bytes: u32 of fifth bits (not 4-byte aligned inside the block) */
export const Q5_0_QH = 2;
/** 16 bytes of low nibbles */
export const Q5_0_QS = 6;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q5_0_TYPE_SIZE;
    const d = readF16(src, o + Q5_0_D);
    const qh = readU32(src, o + Q5_0_QH);
    const y = dstOffset + b * Q5_0_BLOCK_SIZE;
    for (let j = 0; j < 16; j++) {
      const q = src[o + Q5_0_QS + j];
      const h0 = ((qh >>> j) & 1) << 4;
      const h1 = ((qh >>> (j + 16)) & 1) << 4;
      dst[y + j] = ((q & 0x0f) + h0 - 16) * d;
      dst[y + j + 16] = ((q >> 4) + h1 - 16) * d;
    }
  }
}

// quantize_row_q5_0_ref: the value of largest magnitude maps to −16; q = trunc(x/d + 16.5) ≤ 31.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * Q5_0_BLOCK_SIZE;
    const o = dstOffset + b * Q5_0_TYPE_SIZE;
    const max = largestMagnitude(src, x, 32);
    const d = f(max / -16);
    const id = d ? f(1 / d) : 0;
    writeF16(dst, o + Q5_0_D, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(31, Math.trunc(f(f(src[x + j] * id) + 16.5)));
      const q1 = Math.min(31, Math.trunc(f(f(src[x + j + 16] * id) + 16.5)));
      dst[o + Q5_0_QS + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
    }
    writeU32(dst, o + Q5_0_QH, qh >>> 0);
  }
}

export const q5_0Traits: FormatTraits = {
  type: GGMLType.Q5_0,
  id: 'q5_0',
  blockSize: Q5_0_BLOCK_SIZE,
  typeSize: Q5_0_TYPE_SIZE,
  dequantize,
  quantize,
};
