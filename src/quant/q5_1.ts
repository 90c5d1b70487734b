import { f } from './float-ops.ts';
import { readU32, writeU32 } from './bytes.ts';
import { readF16, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q5_1: 32 values = d · q + m, q unsigned 5-bit.
// Low 4 bits as in q4_1 (byte j: element j low nibble, element j + 16 high nibble);
// bit 4 of element i is bit i of the little-endian u32 qh.
export const Q5_1_BLOCK_SIZE = 32;
export const Q5_1_TYPE_SIZE = 24;
/** f16 scale */
export const Q5_1_D = 0;
/** f16 offset (the block minimum) */
export const Q5_1_M = 2;
/** 4 bytes: u32 of fifth bits */
export const Q5_1_QH = 4;
/** 16 bytes of low nibbles */
export const Q5_1_QS = 8;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q5_1_TYPE_SIZE;
    const d = readF16(src, o + Q5_1_D);
    const m = readF16(src, o + Q5_1_M);
    const qh = readU32(src, o + Q5_1_QH);
    const y = dstOffset + b * Q5_1_BLOCK_SIZE;
    for (let j = 0; j < 16; j++) {
      const q = src[o + Q5_1_QS + j];
      const h0 = ((qh >>> j) & 1) << 4;
      const h1 = ((qh >>> (j + 16)) & 1) << 4;
      dst[y + j] = ((q & 0x0f) | h0) * d + m;
      dst[y + j + 16] = ((q >> 4) | h1) * d + m;
    }
  }
}

// quantize_row_q5_1_ref: d = (max − min)/31, m = min, q = trunc((x − min)/d + 0.5), kept to 5 bits.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * Q5_1_BLOCK_SIZE;
    const o = dstOffset + b * Q5_1_TYPE_SIZE;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < 32; j++) {
      const v = src[x + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = f(f(max - min) / 31);
    const id = d ? f(1 / d) : 0;
    writeF16(dst, o + Q5_1_D, d);
    writeF16(dst, o + Q5_1_M, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      // llama.cpp does not clamp here (a uint8 cast); mask to 5 bits as its packing does.
      const q0 = Math.trunc(f(f(f(src[x + j] - min) * id) + 0.5)) & 0x1f;
      const q1 = Math.trunc(f(f(f(src[x + j + 16] - min) * id) + 0.5)) & 0x1f;
      dst[o + Q5_1_QS + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
    }
    writeU32(dst, o + Q5_1_QH, qh >>> 0);
  }
}

export const q5_1Traits: FormatTraits = {
  type: GGMLType.Q5_1,
  id: 'q5_1',
  blockSize: Q5_1_BLOCK_SIZE,
  typeSize: Q5_1_TYPE_SIZE,
  dequantize,
  quantize,
};
