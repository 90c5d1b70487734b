import { clamp, f, nearestInt } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { IQ4_VALUES, IQ4Scratch, iq4Levels, iq4Scale, packIQ4 } from './iq4-search.ts';
import { QK_K } from './k-common.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_iq4_xs: 256 values in 8 sub-blocks of 32; element = d · (ls_j − 32) · IQ4_VALUES[q], ls_j
// a 6-bit scale: low 4 bits in nibble j&1 of scales_l[j>>1], high 2 bits at bits 2j of scales_h.
// qs is 8 × 16 bytes; sub-block j's byte l holds element l (low nibble) and l + 16 (high), as iq4_nl.
export const IQ4_XS_BLOCK_SIZE = QK_K;
export const IQ4_XS_TYPE_SIZE = 136;
/** f16 super-scale */
export const IQ4_XS_D = 0;
/** u16: high 2 bits of the eight scales */
export const IQ4_XS_SCALES_H = 2;
/** 4 bytes: low 4 bits of the eight scales */
export const IQ4_XS_SCALES_L = 4;
/** 128 bytes of nibbles */
export const IQ4_XS_QS = 8;

/** 6-bit scale of sub-block j (0..7), still offset by 32. */
export function iq4xsScale(src: Uint8Array, o: number, j: number): number {
  const h = src[o + IQ4_XS_SCALES_H] | (src[o + IQ4_XS_SCALES_H + 1] << 8);
  return ((src[o + IQ4_XS_SCALES_L + (j >> 1)] >> (4 * (j & 1))) & 0x0f) | (((h >> (2 * j)) & 3) << 4);
}

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * IQ4_XS_TYPE_SIZE;
    const d = readF16(src, o + IQ4_XS_D);
    for (let j = 0; j < 8; j++) {
      const dl = f(d * (iq4xsScale(src, o, j) - 32));
      const y = dstOffset + b * QK_K + 32 * j;
      const q = o + IQ4_XS_QS + 16 * j;
      for (let l = 0; l < 16; l++) {
        dst[y + l] = f(dl * IQ4_VALUES[src[q + l] & 0x0f]);
        dst[y + l + 16] = f(dl * IQ4_VALUES[src[q + l] >> 4]);
      }
    }
  }
}

// quantize_iq4_xs without importance matrix: each sub-block's searched scale, then the super-scale
// d = −(scale of largest magnitude)/32 (f16 on disk, f32 here), scales rounded to −32..31, levels
// re-derived against the rounded d·l.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const s = new IQ4Scratch();
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(8);
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * QK_K;
    const o = dstOffset + b * IQ4_XS_TYPE_SIZE;
    let maxScale = 0;
    let amaxScale = 0;
    for (let j = 0; j < 8; j++) {
      scales[j] = iq4Scale(src, x + 32 * j, s);
      if (Math.abs(scales[j]) > amaxScale) {
        amaxScale = Math.abs(scales[j]);
        maxScale = scales[j];
      }
    }
    const d = f(-maxScale / 32);
    writeF16(dst, o + IQ4_XS_D, d);
    const id = d ? f(1 / d) : 0;
    let h = 0;
    for (let j = 0; j < 8; j++) {
      const l = clamp(nearestInt(f(id * scales[j])), -32, 31);
      const dl = f(d * l);
      iq4Levels(src, x + 32 * j, 32, dl ? f(1 / dl) : 0, L, 32 * j);
      const u = l + 32;
      if (j & 1) dst[o + IQ4_XS_SCALES_L + (j >> 1)] |= (u & 0x0f) << 4;
      else dst[o + IQ4_XS_SCALES_L + (j >> 1)] = u & 0x0f;
      h |= (u >> 4) << (2 * j);
    }
    dst[o + IQ4_XS_SCALES_H] = h & 0xff;
    dst[o + IQ4_XS_SCALES_H + 1] = h >> 8;
    packIQ4(L, QK_K, dst, o + IQ4_XS_QS);
  }
}

export const iq4_xsTraits: FormatTraits = {
  type: GGMLType.IQ4_XS,
  id: 'iq4_xs',
  blockSize: IQ4_XS_BLOCK_SIZE,
  typeSize: IQ4_XS_TYPE_SIZE,
  dequantize,
  quantize,
};
