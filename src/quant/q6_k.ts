import { clamp, f, largestMagnitude, nearestInt } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { QK_K } from './k-common.ts';
import { makeQxQuants, SearchScratch } from './k-quant-search.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_q6_K: 256 values in 16 sub-blocks of 16; element = d·sc_j·(q − 32), q unsigned 6-bit,
// sc_j signed 8-bit. Two halves of 128 values; in half h, for l in 0..31 (ql at 64h, qh at 32h):
//   value 128h+l    : low4 = ql[l] & 15,    high2 = qh[l] bits 0-1
//   value 128h+l+32 : low4 = ql[l+32] & 15, high2 = qh[l] bits 2-3
//   value 128h+l+64 : low4 = ql[l] >> 4,    high2 = qh[l] bits 4-5
//   value 128h+l+96 : low4 = ql[l+32] >> 4, high2 = qh[l] bits 6-7
// and value v uses scale sc[v / 16].
export const Q6_K_BLOCK_SIZE = QK_K;
export const Q6_K_TYPE_SIZE = 210;
/** 128 bytes: low 4 bits */
export const Q6_K_QL = 0;
/** 64 bytes: high 2 bits */
export const Q6_K_QH = 128;
/** 16 × int8 sub-block scales */
export const Q6_K_SCALES = 192;
/** f16 super-scale */
export const Q6_K_D = 208;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * Q6_K_TYPE_SIZE;
    const d = readF16(src, o + Q6_K_D);
    for (let h = 0; h < 2; h++) {
      const ql = o + Q6_K_QL + 64 * h;
      const qh = o + Q6_K_QH + 32 * h;
      const sc = o + Q6_K_SCALES + 8 * h;
      const y = dstOffset + b * QK_K + 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = src[qh + l];
        const q1 = ((src[ql + l] & 0x0f) | ((hb & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0x0f) | (((hb >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
        dst[y + l] = f(d * ((src[sc + is] << 24) >> 24)) * q1;
        dst[y + l + 32] = f(d * ((src[sc + is + 2] << 24) >> 24)) * q2;
        dst[y + l + 64] = f(d * ((src[sc + is + 4] << 24) >> 24)) * q3;
        dst[y + l + 96] = f(d * ((src[sc + is + 6] << 24) >> 24)) * q4;
      }
    }
  }
}

// quantize_row_q6_K_ref: symmetric x²-weighted fit per sub-block, 8-bit scales relative to the
// largest, then every value re-quantized against the stored scales.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(16);
  const search = new SearchScratch();
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * QK_K;
    const o = dstOffset + b * Q6_K_TYPE_SIZE;
    for (let j = 0; j < 16; j++) scales[j] = makeQxQuants(16, 32, src, x + 16 * j, L, 16 * j, search);
    const maxScale = largestMagnitude(scales, 0, 16);
    dst.fill(0, o, o + Q6_K_TYPE_SIZE);
    if (Math.abs(maxScale) < 1e-15) continue;
    const iscale = f(-128 / maxScale);
    writeF16(dst, o + Q6_K_D, f(1 / iscale));
    const d0 = readF16(dst, o + Q6_K_D);
    for (let j = 0; j < 16; j++) {
      const s = Math.min(127, nearestInt(f(iscale * scales[j])));
      dst[o + Q6_K_SCALES + j] = s & 0xff;
      const d = f(d0 * s);
      if (!d) continue;
      for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(f(src[x + 16 * j + i] / d)), -32, 31) + 32;
    }
    packQ6(L, dst, o);
  }
}

function packQ6(L: Uint8Array, dst: Uint8Array, o: number): void {
  for (let h = 0; h < 2; h++) {
    const ql = o + Q6_K_QL + 64 * h;
    const qh = o + Q6_K_QH + 32 * h;
    for (let l = 0; l < 32; l++) {
      const a = L[128 * h + l];
      const b = L[128 * h + l + 32];
      const c = L[128 * h + l + 64];
      const e = L[128 * h + l + 96];
      dst[ql + l] = (a & 0x0f) | ((c & 0x0f) << 4);
      dst[ql + l + 32] = (b & 0x0f) | ((e & 0x0f) << 4);
      dst[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
}

export const q6_kTraits: FormatTraits = {
  type: GGMLType.Q6_K,
  id: 'q6_k',
  blockSize: Q6_K_BLOCK_SIZE,
  typeSize: Q6_K_TYPE_SIZE,
  dequantize,
  quantize,
};
