import { f, nearestInt } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { kMin, kScale, packScaleMinK4, QK_K } from './k-common.ts';
import { makeQkx2Quants } from './k-quant-search.ts';
import { requantize, subBlockWeights } from './q4_k.ts';
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

// quantize_row_q5_K_ref: the q4_K procedure with 5-bit levels.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const L = new Uint8Array(QK_K);
  const aux = new Uint8Array(32);
  const w = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  const ls = new Uint8Array(8);
  const lm = new Uint8Array(8);
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * QK_K;
    const o = dstOffset + b * Q5_K_TYPE_SIZE;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      subBlockWeights(src, x + 32 * j, w);
      [scales[j], mins[j]] = makeQkx2Quants(32, src, x + 32 * j, w, L, 32 * j, aux, SEARCH);
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
    for (let j = 0; j < 8; j++) {
      ls[j] = Math.min(63, nearestInt(f(invScale * scales[j])) & 0xff);
      lm[j] = Math.min(63, nearestInt(f(invMin * mins[j])) & 0xff);
    }
    packScaleMinK4(dst, o + Q5_K_SCALES, ls, lm);
    writeF16(dst, o + Q5_K_D, f(maxScale / 63));
    writeF16(dst, o + Q5_K_DMIN, f(maxMin / 63));
    requantize(src, x, dst, o, L, 31);
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
