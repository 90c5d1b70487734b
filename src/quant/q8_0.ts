import { f, roundHalfAway } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q8_0: 32 values = d · q, q signed 8-bit.
export const Q8_0_BLOCK_SIZE = 32;
export const Q8_0_TYPE_SIZE = 34;
/** f16 scale */
export const Q8_0_D = 0;
/** 32 × int8 quants, in element order */
export const Q8_0_QS = 2;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q8_0_TYPE_SIZE;
    const d = readF16(src, o + Q8_0_D);
    const y = dstOffset + b * Q8_0_BLOCK_SIZE;
    for (let j = 0; j < 32; j++) dst[y + j] = ((src[o + Q8_0_QS + j] << 24) >> 24) * d;
  }
}

// quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d).
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * Q8_0_BLOCK_SIZE;
    const o = dstOffset + b * Q8_0_TYPE_SIZE;
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[x + j]));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    writeF16(dst, o + Q8_0_D, d);
    for (let j = 0; j < 32; j++) dst[o + Q8_0_QS + j] = roundHalfAway(f(src[x + j] * id)) & 0xff;
  }
}

export const q8_0Traits: FormatTraits = {
  type: GGMLType.Q8_0,
  id: 'q8_0',
  blockSize: Q8_0_BLOCK_SIZE,
  typeSize: Q8_0_TYPE_SIZE,
  dequantize,
  quantize,
};
