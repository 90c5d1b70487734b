import { clamp, f, nearestInt } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { QK_K } from './k-common.ts';
import { makeQkx2Quants, SearchScratch } from './k-quant-search.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q2_K: 256 values in 16 sub-blocks of 16; element = d·(sc_j & 15)·q − dmin·(sc_j >> 4),
// q unsigned 2-bit. qs: two halves of 32 bytes; in half h, byte 32h+i holds at bits 2s..2s+1 the
// value 128h + 32s + i (s = 0..3), so value v sits in byte 32·(v>>7) + (v & 31), shift 2·((v>>5)&3).
export const Q2_K_BLOCK_SIZE = QK_K;
export const Q2_K_TYPE_SIZE = 84;
/** 16 bytes: low nibble = scale, high nibble = min, of each sub-block */
export const Q2_K_SCALES = 0;
/** 64 bytes of 2-bit quants */
export const Q2_K_QS = 16;
/** f16 super-scale of the scales */
export const Q2_K_D = 80;
/** f16 super-scale of the mins */
export const Q2_K_DMIN = 82;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q2_K_TYPE_SIZE;
    const d = readF16(src, o + Q2_K_D);
    const dmin = readF16(src, o + Q2_K_DMIN);
    const y = dstOffset + b * QK_K;
    for (let j = 0; j < 16; j++) {
      const sc = src[o + Q2_K_SCALES + j];
      const dl = f(d * (sc & 0x0f));
      const ml = f(dmin * (sc >> 4));
      // sub-block j covers values 16j..16j+15
      const q = o + Q2_K_QS + 32 * (j >> 3) + 16 * (j & 1);
      const shift = 2 * ((j >> 1) & 3);
      for (let l = 0; l < 16; l++) dst[y + 16 * j + l] = f(dl * ((src[q + l] >> shift) & 3)) - ml;
    }
  }
}

const SEARCH = { nmax: 3, rmin: -0.5, rdelta: f(0.1), nstep: 15, useMad: true } as const;

// quantize_row_q2_K_ref: |x|-weighted asymmetric fit per sub-block (mean abs error),
// 4-bit scales/mins relative to their maxima, then re-quantize against the stored ones.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const L = new Uint8Array(QK_K);
  const search = new SearchScratch();
  const w = new Float32Array(16);
  const scales = new Float32Array(16);
  const mins = new Float32Array(16);
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * QK_K;
    const o = dstOffset + b * Q2_K_TYPE_SIZE;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) w[l] = Math.abs(src[x + 16 * j + l]);
      scales[j] = makeQkx2Quants(16, src, x + 16 * j, w, L, 16 * j, SEARCH, search);
      mins[j] = search.min;
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    const is = maxScale > 0 ? f(15 / maxScale) : 0;
    const im = maxMin > 0 ? f(15 / maxMin) : 0;
    for (let j = 0; j < 16; j++) {
      const ls = maxScale > 0 ? nearestInt(f(is * scales[j])) : 0;
      const lm = maxMin > 0 ? nearestInt(f(im * mins[j])) : 0;
      dst[o + Q2_K_SCALES + j] = (ls | (lm << 4)) & 0xff;
    }
    writeF16(dst, o + Q2_K_D, maxScale > 0 ? f(maxScale / 15) : 0);
    writeF16(dst, o + Q2_K_DMIN, maxMin > 0 ? f(maxMin / 15) : 0);
    const d0 = readF16(dst, o + Q2_K_D);
    const dmin0 = readF16(dst, o + Q2_K_DMIN);
    for (let j = 0; j < 16; j++) {
      const sc = dst[o + Q2_K_SCALES + j];
      const d = f(d0 * (sc & 0x0f));
      if (!d) continue;
      const dm = f(dmin0 * (sc >> 4));
      for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(f(f(src[x + 16 * j + i] + dm) / d)), 0, 3);
    }
    packQ2(L, dst, o + Q2_K_QS);
  }
}

/** 2-bit packing shared with q3_K's low bits: byte 32h+i, bits 2s = value 128h + 32s + i. */
export function packQ2(L: Uint8Array, dst: Uint8Array, qs: number): void {
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < 32; i++) {
      const v = 128 * h + i;
      dst[qs + 32 * h + i] = L[v] | (L[v + 32] << 2) | (L[v + 64] << 4) | (L[v + 96] << 6);
    }
  }
}

export const q2_kTraits: FormatTraits = {
  type: GGMLType.Q2_K,
  id: 'q2_k',
  blockSize: Q2_K_BLOCK_SIZE,
  typeSize: Q2_K_TYPE_SIZE,
  dequantize,
  quantize,
};
