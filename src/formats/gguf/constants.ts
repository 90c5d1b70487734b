// GGUF on-disk constants (gguf.h / the GGUF spec).

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const DEFAULT_ALIGNMENT = 32;

export const ValueType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6,
  BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** bytes of one scalar of each fixed-size value type */
export const SCALAR_SIZE: Readonly<Record<number, number>> = {
  0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8,
};

/** ggml's GGML_MAX_DIMS */
export const MAX_DIMS = 4;
/** Metadata + tensor table larger than this is refused (a 128k-token vocab needs ~10 MiB). */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;
/** Far beyond any real model; anything larger is a corrupt count, refused before allocating. */
export const MAX_TENSORS = 1 << 20;
export const MAX_KV = 1 << 20;
