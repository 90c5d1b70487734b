import { f } from './float-ops.ts';
import { readF16, writeF16 } from './half.ts';
import { IQ4_VALUES, IQ4Scratch, iq4Levels, iq4Scale, packIQ4 } from './iq4-search.ts';
import { GGMLType, type FormatTraits } from './types.ts';

// block_iq4_nl: 32 values = d · IQ4_VALUES[q], q a 4-bit index into the non-linear table.
// Byte j of qs holds element j in its low nibble and element j + 16 in its high nibble (as q4_0).
export const IQ4_NL_BLOCK_SIZE = 32;
export const IQ4_NL_TYPE_SIZE = 18;
/** f16 scale */
export const IQ4_NL_D = 0;
/** 16 bytes of nibbles */
export const IQ4_NL_QS = 2;

function dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void {
  for (let b = 0; b < nBlocks; b++) {
    const o = offset + b * IQ4_NL_TYPE_SIZE;
    const d = readF16(src, o + IQ4_NL_D);
    const y = dstOffset + b * IQ4_NL_BLOCK_SIZE;
    for (let j = 0; j < 16; j++) {
      const q = src[o + IQ4_NL_QS + j];
      dst[y + j] = f(d * IQ4_VALUES[q & 0x0f]);
      dst[y + j + 16] = f(d * IQ4_VALUES[q >> 4]);
    }
  }
}

// quantize_iq4_nl without importance matrix (what llama-quantize runs): the searched scale is
// stored as f16, the levels come from its unrounded f32 inverse.
function quantize(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void {
  const s = new IQ4Scratch();
  const L = new Uint8Array(32);
  for (let b = 0; b < nBlocks; b++) {
    const x = srcOffset + b * IQ4_NL_BLOCK_SIZE;
    const o = dstOffset + b * IQ4_NL_TYPE_SIZE;
    const d = iq4Scale(src, x, s);
    writeF16(dst, o + IQ4_NL_D, d);
    iq4Levels(src, x, 32, d ? f(1 / d) : 0, L, 0);
    packIQ4(L, 32, dst, o + IQ4_NL_QS);
  }
}

export const iq4_nlTraits: FormatTraits = {
  type: GGMLType.IQ4_NL,
  id: 'iq4_nl',
  blockSize: IQ4_NL_BLOCK_SIZE,
  typeSize: IQ4_NL_TYPE_SIZE,
  dequantize,
  quantize,
};
