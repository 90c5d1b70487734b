// The one table of supported block formats; every other module reads block facts from here.

import { EngineError, UnsupportedError } from '../shared/errors.ts';
import { bf16Traits } from './bf16.ts';
import { f16Traits } from './f16.ts';
import { f32Traits } from './f32.ts';
import { iq4_nlTraits } from './iq4_nl.ts';
import { iq4_xsTraits } from './iq4_xs.ts';
import { mlcQ4f16Traits, mlcQ4f32Traits } from './mlc_q4.ts';
import { q2_kTraits } from './q2_k.ts';
import { q3_kTraits } from './q3_k.ts';
import { q4_0Traits } from './q4_0.ts';
import { q4_1Traits } from './q4_1.ts';
import { q4_kTraits } from './q4_k.ts';
import { q5_0Traits } from './q5_0.ts';
import { q5_1Traits } from './q5_1.ts';
import { q5_kTraits } from './q5_k.ts';
import { q6_kTraits } from './q6_k.ts';
import { q8_0Traits } from './q8_0.ts';
import { ggmlTypeName, type FormatTraits, type GGMLType } from './types.ts';

const ALL: readonly FormatTraits[] = [
  f32Traits, f16Traits, bf16Traits, q8_0Traits, q4_0Traits, q4_1Traits, q5_0Traits, q5_1Traits,
  q2_kTraits, q3_kTraits, q4_kTraits, q5_kTraits, q6_kTraits, iq4_nlTraits, iq4_xsTraits,
  mlcQ4f16Traits, mlcQ4f32Traits,
];

/** Block formats of our own (MLC-LLM weights): never valid in a GGUF file. */
export const NOT_IN_GGUF: ReadonlySet<number> = new Set([mlcQ4f16Traits.type, mlcQ4f32Traits.type]);

export const FORMAT_TRAITS: ReadonlyMap<GGMLType, FormatTraits> = new Map(ALL.map((t) => [t.type, t]));

/** Traits of `type`, or an UnsupportedError naming the tensor, its type and what we do support. */
export function getTraits(type: number, tensorName: string): FormatTraits {
  const t = FORMAT_TRAITS.get(type as GGMLType);
  if (t) return t;
  const supported = ALL.map((s) => ggmlTypeName(s.type)).join(', ');
  throw new UnsupportedError(
    'UNSUPPORTED_TYPE',
    `tensor '${tensorName}' uses ${ggmlTypeName(type)}, which this engine does not support yet (supported: ${supported})`,
  );
}

/** Bytes taken by `nElements` values of `type`; nElements must fill whole blocks. */
export function tensorByteSize(type: number, nElements: number, tensorName: string): number {
  const t = getTraits(type, tensorName);
  if (!Number.isSafeInteger(nElements) || nElements < 0 || nElements % t.blockSize !== 0) {
    throw new EngineError(
      'BAD_SHAPE',
      `tensor '${tensorName}' has ${nElements} elements, not a whole number of ${ggmlTypeName(type)} blocks of ${t.blockSize}`,
    );
  }
  return (nElements / t.blockSize) * t.typeSize;
}

/** Reference dequantization of a whole tensor (scalar; for tests and tiny tensors). */
export function dequantizeTensor(type: number, bytes: Uint8Array, nElements: number, name: string): Float32Array {
  const t = getTraits(type, name);
  const size = tensorByteSize(type, nElements, name);
  if (bytes.length < size) {
    throw new EngineError('BAD_SHAPE', `tensor '${name}' needs ${size} bytes of ${ggmlTypeName(type)} data but has ${bytes.length}`);
  }
  const out = new Float32Array(nElements);
  t.dequantize(bytes, 0, nElements / t.blockSize, out, 0);
  return out;
}
