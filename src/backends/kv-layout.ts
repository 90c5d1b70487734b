// KV cache element types and their byte layout, shared by both backends, the decoder and the
// memory pre-flight (which must count exactly what a backend allocates). q8_0 is llama.cpp's
// block_q8_0 (one f16 scale + 32 int8 values = 34 bytes per 32 values), as `-ctk/-ctv q8_0`.
import { EngineError } from '../shared/errors.ts';

export const KV_TYPES = ['f32', 'f16', 'q8_0'] as const;
export type KVType = (typeof KV_TYPES)[number];

export function isKVType(v: unknown): v is KVType {
  return typeof v === 'string' && (KV_TYPES as readonly string[]).includes(v);
}

/** Bytes of one cached row: one position of one layer, K or V alike (kvDim = nHeadKV × headDim). */
export function kvRowBytes(type: KVType, kvDim: number): number {
  switch (type) {
    case 'f32': return kvDim * 4;
    case 'f16': return kvDim * 2;
    case 'q8_0':
      if (kvDim % 32 !== 0) {
        throw new EngineError('BAD_ARGUMENT', `A q8_0 KV cache needs rows that are whole 32-value blocks; this model's K/V rows have ${kvDim} values (use --kv-type f16).`);
      }
      return (kvDim / 32) * 34;
  }
}

/**
 * Context shift: the positions [lo, hi) that hold moved rows once [keep, keep + discard) of `end`
 * is dropped — all after keep in a layer that holds the whole context, only those still in the
 * ring (once end − slots .. end − 1) in a sliding layer of `slots` positions. hi ≤ lo: none.
 */
export function shiftedPositions(slots: number, keep: number, discard: number, end: number): [lo: number, hi: number] {
  return [slots >= end ? keep : Math.max(keep, end - slots - discard), end - discard];
}
