import { f } from './float-ops.ts';
import { readF16 } from './half.ts';
import { kMin, kScale, QK_K } from './k-common.ts';
import { fitBlockK4, kFitScratch } from './q4_k.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q5_K: as q4_K (same d/dmin/scales header) plus a fifth bit per value.
// element = d·sc_j·q − dmin·m_j, q unsigned 5-bit. qs: 4 chunks of 32 bytes, chunk c holds the low
// 4 bits of sub-block 2c (low nibbles) and 2c+1 (high nibbles); the fifth bit of element l of
// sub-block j is bit j of qh[l].
export const Q5_K_BLOCK_SIZE = QK_K;
export const Q5_K_TYPE_SIZE = 176;
/** f16 super-scale of the sub-block scales */
export const Q5_K_D = 0;
/** f16 super-scale of the sub-block mins */
export const Q5_K_DMIN = 2;
/** 12 bytes: packed 6-bit scales and mins (as q4_K) */
export const Q5_K_SCALES = 4;
/** 32 bytes of high bits */
export const Q5_K_QH = 16;
/** 128 bytes of low nibbles */
export const Q5_K_QS = 48;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q5_K_TYPE_SIZE;
    const d = readF16(src, o + Q5_K_D);
    const dmin = readF16(src, o + Q5_K_DMIN);
    const qh = o + Q5_K_QH;
    let y = dstOffset + b * QK_K;
    for (let c = 0; c < 4; c++) {
      const q = o + Q5_K_QS + 32 * c;
      const d1 = f(d * kScale(src, o + Q5_K_SCALES, 2 * c));
      const m1 = f(dmin * kMin(src, o + Q5_K_SCALES, 2 * c));
      const d2 = f(d * kScale(src, o + Q5_K_SCALES, 2 * c + 1));
      const m2 = f(dmin * kMin(src, o + Q5_K_SCALES, 2 * c + 1));
      const u1 = 1 << (2 * c);
      const u2 = 2 << (2 * c);
      for (let l = 0; l < 32; l++) dst[y + l] = f(d1 * ((src[q + l] & 0x0f) + (src[qh + l] & u1 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) dst[y + 32 + l] = f(d2 * ((src[q + l] >> 4) + (src[qh + l] & u2 ? 16 : 0))) - m2;
      y += 64;
    }
  }
}

const SEARCH = { nmax: 31, rmin: -0.5, rdelta: f(0.1), nstep: 15, useMad: false } as const;

// quantize_row_q5_K_ref: the q4_K fit with 5-bit levels; low nibbles as q4_K, fifth bits in qh.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const L = new Uint8Array(QK_K);
  const scratch = kFitScratch();
  for (let b = 0; b < nBlocks; b++) {
    const o = dstOffset + b * Q5_K_TYPE_SIZE;
    fitBlockK4(src, srcOffset + b * QK_K, dst, o, L, SEARCH, scratch);
    dst.fill(0, o + Q5_K_QH, o + Q5_K_QH + 32);
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const l1 = L[64 * c + l];
        const l2 = L[64 * c + 32 + l];
        dst[o + Q5_K_QS + 32 * c + l] = (l1 & 0x0f) | ((l2 & 0x0f) << 4);
        dst[o + Q5_K_QH + l] |= ((l1 >> 4) << (2 * c)) | ((l2 >> 4) << (2 * c + 1));
      }
    }
  }
}

export const q5_kTraits: FormatTraits = {
  type: GGMLType.Q5_K,
  id: 'q5_k',
  blockSize: Q5_K_BLOCK_SIZE,
  typeSize: Q5_K_TYPE_SIZE,
  dequantize,
  quantize,
};
