import { f } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q4_1: 32 values = d · q + m, q unsigned 4-bit.
// Byte j of qs holds element j in its low nibble and element j + 16 in its high nibble.
export const Q4_1_BLOCK_SIZE = 32;
export const Q4_1_TYPE_SIZE = 20;
/** f16 scale */
export const Q4_1_D = 0;
/** f16 offset (the block minimum) */
export const Q4_1_M = 2;
/** 16 bytes of nibbles */
export const Q4_1_QS = 4;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q4_1_TYPE_SIZE;
    const d = readF16(src, o + Q4_1_D);
    const m = readF16(src, o + Q4_1_M);
    const y = dstOffset + b * Q4_1_BLOCK_SIZE;
    for (let j = 0; j < 16; j++) {
      const q = src[o + Q4_1_QS + j];
      dst[y + j] = (q & 0x0f) * d + m;
      dst[y + j + 16] = (q >> 4) * d + m;
    }
  }
}

// quantize_row_q4_1_ref: d = (max − min)/15, m = min, q = trunc((x − min)/d + 0.5) ≤ 15.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * Q4_1_BLOCK_SIZE;
    const o = dstOffset + b * Q4_1_TYPE_SIZE;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < 32; j++) {
      const v = src[x + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = f(f(max - min) / 15);
    const id = d ? f(1 / d) : 0;
    writeF16(dst, o + Q4_1_D, d);
    writeF16(dst, o + Q4_1_M, min);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(f(f(f(src[x + j] - min) * id) + 0.5)));
      const q1 = Math.min(15, Math.trunc(f(f(f(src[x + j + 16] - min) * id) + 0.5)));
      dst[o + Q4_1_QS + j] = q0 | (q1 << 4);
    }
  }
}

export const q4_1Traits: FormatTraits = {
  type: GGMLType.Q4_1,
  id: 'q4_1',
  blockSize: Q4_1_BLOCK_SIZE,
  typeSize: Q4_1_TYPE_SIZE,
  dequantize,
  quantize,
};
