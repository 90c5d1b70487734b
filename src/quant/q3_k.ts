import { clamp, f, largestMagnitude, nearestInt } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { QK_K } from './k-common.ts';
import { makeQ3Quants, SearchScratch } from './k-quant-search.ts';
import { packQ2 } from './q2_k.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q3_K: 256 values in 16 sub-blocks of 16; element = d·(s_j − 32)·(q − 4), q unsigned 3-bit.
// Low 2 bits of value v are packed like q2_K (byte 32·(v>>7) + (v & 31), shift 2·((v>>5)&3));
// bit 2 is bit v>>5 of hmask[v & 31]. The 16 6-bit scales s_j: low 4 bits in scales[j] (j<8) or
// the high nibble of scales[j−8] (j≥8); high 2 bits in scales[8 + j%4] at bit 2·(j/4).
export const Q3_K_BLOCK_SIZE = QK_K;
export const Q3_K_TYPE_SIZE = 110;
/** 32 bytes: third bit of each quant */
export const Q3_K_HMASK = 0;
/** 64 bytes: low 2 bits */
export const Q3_K_QS = 32;
/** 12 bytes: packed 6-bit scales */
export const Q3_K_SCALES = 96;
/** f16 super-scale */
export const Q3_K_D = 108;

/** Signed scale (s_j − 32) of sub-block j from the 12 packed bytes at `o`. */
export function q3kScale(src: Uint8Array, o: number, j: number): number {
  const low = j < 8 ? src[o + j] & 0x0f : src[o + j - 8] >> 4;
  const high = (src[o + 8 + (j & 3)] >> (2 * (j >> 2))) & 3;
  return (low | (high << 4)) - 32;
}

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q3_K_TYPE_SIZE;
    const d = readF16(src, o + Q3_K_D);
    const y = dstOffset + b * QK_K;
    for (let j = 0; j < 16; j++) {
      const dl = f(d * q3kScale(src, o + Q3_K_SCALES, j));
      const q = o + Q3_K_QS + 32 * (j >> 3) + 16 * (j & 1);
      const shift = 2 * ((j >> 1) & 3);
      const hm = o + Q3_K_HMASK + 16 * (j & 1);
      const bit = 1 << (j >> 1);
      for (let l = 0; l < 16; l++) {
        dst[y + 16 * j + l] = dl * (((src[q + l] >> shift) & 3) - (src[hm + l] & bit ? 0 : 4));
      }
    }
  }
}

// quantize_row_q3_K_ref: x²-weighted symmetric fit per sub-block (make_q3_quants), 6-bit signed
// scales relative to the largest, re-quantize against the stored scales, then split off bit 2.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(16);
  const search = new SearchScratch();
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * QK_K;
    const o = dstOffset + b * Q3_K_TYPE_SIZE;
    for (let j = 0; j < 16; j++) scales[j] = makeQ3Quants(16, 4, src, x + 16 * j, L, 16 * j, search);
    const maxScale = largestMagnitude(scales, 0, 16);
    dst.fill(0, o, o + Q3_K_TYPE_SIZE);
    if (maxScale) {
      const iscale = f(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        const l = clamp((nearestInt(f(iscale * scales[j])) << 24) >> 24, -32, 31) + 32;
        if (j < 8) dst[o + Q3_K_SCALES + j] = l & 0x0f;
        else dst[o + Q3_K_SCALES + j - 8] |= (l & 0x0f) << 4;
        dst[o + Q3_K_SCALES + 8 + (j & 3)] |= (l >> 4) << (2 * (j >> 2));
      }
      writeF16(dst, o + Q3_K_D, f(1 / iscale));
    }
    const d0 = readF16(dst, o + Q3_K_D);
    for (let j = 0; j < 16; j++) {
      const d = f(d0 * q3kScale(dst, o + Q3_K_SCALES, j));
      if (!d) continue;
      for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(f(src[x + 16 * j + i] / d)), -4, 3) + 4;
    }
    for (let v = 0; v < QK_K; v++) {
      if (L[v] > 3) {
        dst[o + Q3_K_HMASK + (v & 31)] |= 1 << (v >> 5);
        L[v] -= 4;
      }
    }
    packQ2(L, dst, o + Q3_K_QS);
  }
}

export const q3_kTraits: FormatTraits = {
  type: GGMLType.Q3_K,
  id: 'q3_k',
  blockSize: Q3_K_BLOCK_SIZE,
  typeSize: Q3_K_TYPE_SIZE,
  dequantize,
  quantize,
};
