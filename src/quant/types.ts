// ggml tensor type ids exactly as stored in GGUF tensor infos (ggml.h `enum ggml_type`).
export const GGMLType = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q8_1: 9,
  Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q8_K: 15,
  IQ2_XXS: 16, IQ2_XS: 17, IQ3_XXS: 18, IQ1_S: 19, IQ4_NL: 20, IQ3_S: 21, IQ2_S: 22, IQ4_XS: 23,
  I8: 24, I16: 25, I32: 26, I64: 27, F64: 28, IQ1_M: 29, BF16: 30,
  TQ1_0: 34, TQ2_0: 35, MXFP4: 39,
  // our own in-memory blocks for MLC-LLM weights (src/quant/mlc_q4.ts); never written to a GGUF
  MLC_Q4F16: 1000, MLC_Q4F32: 1001,
} as const;
export type GGMLType = (typeof GGMLType)[keyof typeof GGMLType];

/** Name of any ggml type id, known to us or not (for error messages). */
export function ggmlTypeName(id: number): string {
  for (const [k, v] of Object.entries(GGMLType)) if (v === id) return k;
  return `type#${id}`;
}

/** Block facts every other module reads (GGUF reader sizes, kernels, WGSL variants). */
export interface FormatTraits {
  readonly type: GGMLType;
  /** lower-case id as upstream, e.g. 'q4_k'; also the kernel/snippet name. */
  readonly id: string;
  /** values per block */
  readonly blockSize: number;
  /** bytes per block */
  readonly typeSize: number;
  /** Scalar reference: dequantize `nBlocks` blocks starting at byte `offset` of `src` into `dst` at `dstOffset`. */
  dequantize(src: Uint8Array, offset: number, nBlocks: number, dst: Float32Array, dstOffset: number): void;
  /**
   * Scalar reference quantizer, byte-identical to llama-quantize (the MLC blocks: mlc-llm's formula) without an importance matrix
   * (`quantize_row_*_ref`; for iq4_nl/iq4_xs `quantize_iq4_*`, as `_ref` differs): `nBlocks * blockSize`
   * values from `src` at `srcOffset` into blocks written at byte `dstOffset` of `dst`. Absent for
   * formats we can only read.
   */
  quantize?(src: Float32Array, srcOffset: number, nBlocks: number, dst: Uint8Array, dstOffset: number): void;
}
