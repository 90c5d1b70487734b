import { clamp, f, nearestInt } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { kMin, kScale, packScaleMinK4, QK_K } from './k-common.ts';
import { makeQkx2Quants, SearchScratch } from './k-quant-search.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q4_K: 256 values in 8 sub-blocks of 32; element = d·sc_j·q − dmin·m_j, q unsigned 4-bit,
// sc_j/m_j 6-bit (packed, see K_SCALE_BYTES). qs is 4 chunks of 32 bytes; chunk c holds
// sub-block 2c in its low nibbles and sub-block 2c+1 in its high nibbles (element l of each at byte l).
export const Q4_K_BLOCK_SIZE = QK_K;
export const Q4_K_TYPE_SIZE = 144;
/** f16 super-scale of the sub-block scales */
export const Q4_K_D = 0;
/** f16 super-scale of the sub-block mins */
export const Q4_K_DMIN = 2;
/** 12 bytes: packed 6-bit scales and mins */
export const Q4_K_SCALES = 4;
/** 128 bytes of nibbles */
export const Q4_K_QS = 16;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q4_K_TYPE_SIZE;
    const d = readF16(src, o + Q4_K_D);
    const dmin = readF16(src, o + Q4_K_DMIN);
    let y = dstOffset + b * QK_K;
    for (let c = 0; c < 4; c++) {
      const q = o + Q4_K_QS + 32 * c;
      const d1 = f(d * kScale(src, o + Q4_K_SCALES, 2 * c));
      const m1 = f(dmin * kMin(src, o + Q4_K_SCALES, 2 * c));
      const d2 = f(d * kScale(src, o + Q4_K_SCALES, 2 * c + 1));
      const m2 = f(dmin * kMin(src, o + Q4_K_SCALES, 2 * c + 1));
      for (let l = 0; l < 32; l++) dst[y + l] = f(d1 * (src[q + l] & 0x0f)) - m1;
      for (let l = 0; l < 32; l++) dst[y + 32 + l] = f(d2 * (src[q + l] >> 4)) - m2;
      y += 64;
    }
  }
}

const SEARCH = { nmax: 15, rmin: -1, rdelta: f(0.1), nstep: 20, useMad: false } as const;

type Search = typeof SEARCH | { nmax: number; rmin: number; rdelta: number; nstep: number; useMad: boolean };

/** Scratch for fitBlockK4, allocated once per quantize call. */
export function kFitScratch() {
  return { search: new SearchScratch(), w: new Float32Array(32), scales: new Float32Array(8), mins: new Float32Array(8),
    ls: new Uint8Array(8), lm: new Uint8Array(8) };
}

/**
 * The part of quantize_row_q4_K_ref / q5_K_ref both share (same d / dmin / 6-bit scale header):
 * per sub-block asymmetric fit, 6-bit quantized scales and mins written to the block, and every
 * value re-quantized into L (levels 0..nmax) against the stored, rounded scales.
 */
export function fitBlockK4(src: Float32Array, x: number, blk: Uint8Array, o: number, L: Uint8Array,
  search: Search, s: ReturnType<typeof kFitScratch>): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    subBlockWeights(src, x + 32 * j, s.w);
    s.scales[j] = makeQkx2Quants(32, src, x + 32 * j, s.w, L, 32 * j, search, s.search);
    s.mins[j] = s.search.min;
    if (s.scales[j] > maxScale) maxScale = s.scales[j];
    if (s.mins[j] > maxMin) maxMin = s.mins[j];
  }
  const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    s.ls[j] = Math.min(63, nearestInt(f(invScale * s.scales[j])) & 0xff);
    s.lm[j] = Math.min(63, nearestInt(f(invMin * s.mins[j])) & 0xff);
  }
  packScaleMinK4(blk, o + Q4_K_SCALES, s.ls, s.lm);
  writeF16(blk, o + Q4_K_D, f(maxScale / 63));
  writeF16(blk, o + Q4_K_DMIN, f(maxMin / 63));
  requantize(src, x, blk, o, L, search.nmax);
}

// quantize_row_q4_K_ref: the shared fit, then two sub-blocks per 32 bytes of nibbles.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const L = new Uint8Array(QK_K);
  const scratch = kFitScratch();
  for (let b = 0; b < nBlocks; b++) {
    const o = dstOffset + b * Q4_K_TYPE_SIZE;
    fitBlockK4(src, srcOffset + b * QK_K, dst, o, L, SEARCH, scratch);
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) dst[o + Q4_K_QS + 32 * c + l] = L[64 * c + l] | (L[64 * c + 32 + l] << 4);
    }
  }
}

function subBlockWeights(src: Float32Array, x: number, w: Float32Array): void {
  let sumX2 = 0;
  for (let l = 0; l < 32; l++) sumX2 = f(sumX2 + f(src[x + l] * src[x + l]));
  const avX = f(Math.sqrt(f(sumX2 / 32)));
  for (let l = 0; l < 32; l++) w[l] = f(avX + Math.abs(src[x + l]));
}

/** Re-derive every level from the stored f16 d/dmin and 6-bit scales (shared with q5_k: same header layout). */
function requantize(src: Float32Array, x: number, blk: Uint8Array, o: number, L: Uint8Array, nmax: number): void {
  const d0 = readF16(blk, o + Q4_K_D);
  const dmin0 = readF16(blk, o + Q4_K_DMIN);
  for (let j = 0; j < 8; j++) {
    const d = f(d0 * kScale(blk, o + Q4_K_SCALES, j));
    if (!d) continue;
    const dm = f(dmin0 * kMin(blk, o + Q4_K_SCALES, j));
    for (let i = 0; i < 32; i++) L[32 * j + i] = clamp(nearestInt(f(f(src[x + 32 * j + i] + dm) / d)), 0, nmax);
  }
}

export const q4_kTraits: FormatTraits = {
  type: GGMLType.Q4_K,
  id: 'q4_k',
  blockSize: Q4_K_BLOCK_SIZE,
  typeSize: Q4_K_TYPE_SIZE,
  dequantize,
  quantize,
};
