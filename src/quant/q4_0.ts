import { f, largestMagnitude } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q4_0: 32 values = d · (q − 8), q unsigned 4-bit.
// Byte j of qs holds element j in its low nibble and element j + 16 in its high nibble.
export const Q4_0_BLOCK_SIZE = 32;
export const Q4_0_TYPE_SIZE = 18;
/** f16 scale */
export const Q4_0_D = 0;
/** 16 bytes of nibbles */
export const Q4_0_QS = 2;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q4_0_TYPE_SIZE;
    const d = readF16(src, o + Q4_0_D);
    const y = dstOffset + b * Q4_0_BLOCK_SIZE;
    for (let j = 0; j < 16; j++) {
      const q = src[o + Q4_0_QS + j];
      dst[y + j] = ((q & 0x0f) - 8) * d;
      dst[y + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

// quantize_row_q4_0_ref: the value of largest magnitude maps to −8 exactly; q = trunc(x/d + 8.5) ≤ 15.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * Q4_0_BLOCK_SIZE;
    const o = dstOffset + b * Q4_0_TYPE_SIZE;
    const max = largestMagnitude(src, x, 32);
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    writeF16(dst, o + Q4_0_D, d);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(f(f(src[x + j] * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(f(f(src[x + j + 16] * id) + 8.5)));
      dst[o + Q4_0_QS + j] = q0 | (q1 << 4);
    }
  }
}

export const q4_0Traits: FormatTraits = {
  type: GGMLType.Q4_0,
  id: 'q4_0',
  blockSize: Q4_0_BLOCK_SIZE,
  typeSize: Q4_0_TYPE_SIZE,
  dequantize,
  quantize,
};
