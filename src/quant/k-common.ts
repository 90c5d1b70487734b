// Shared by the K-quants: super-block size and the 12-byte packing of eight 6-bit
// (scale, min) pairs used by q4_k and q5_k (llama.cpp's get_scale_min_k4).

/** values per K-quant super-block */
export const QK_K = 256;

/** Bytes of eight 6-bit scales + eight 6-bit mins:
 *  bytes 0-3: scale j (j<4) low 6 bits, top 2 bits = high bits of scale j+4;
 *  bytes 4-7: min j (j<4) low 6 bits, top 2 bits = high bits of min j+4;
 *  bytes 8-11: low nibble = scale j+4 low 4 bits, high nibble = min j+4 low 4 bits. */
export const K_SCALE_BYTES = 12;

/** 6-bit scale of sub-block j (0..7) from the packed 12 bytes at `o`. */
export function kScale(q: Uint8Array, o: number, j: number): number {
  return j < 4 ? q[o + j] & 63 : (q[o + j + 4] & 0x0f) | ((q[o + j - 4] >> 6) << 4);
}

/** 6-bit min of sub-block j (0..7) from the packed 12 bytes at `o`. */
export function kMin(q: Uint8Array, o: number, j: number): number {
  return j < 4 ? q[o + j + 4] & 63 : (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4);
}

/** Pack eight 6-bit scales and mins into the 12 bytes at `o` (inverse of kScale/kMin). */
export function packScaleMinK4(q: Uint8Array, o: number, ls: ArrayLike<number>, lm: ArrayLike<number>): void {
  for (let j = 0; j < 4; j++) {
    q[o + j] = ls[j] | ((ls[j + 4] >> 4) << 6);
    q[o + j + 4] = lm[j] | ((lm[j + 4] >> 4) << 6);
    q[o + j + 8] = (ls[j + 4] & 0x0f) | ((lm[j + 4] & 0x0f) << 4);
  }
}
