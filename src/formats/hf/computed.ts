// Tensors of a Hugging Face folder whose GGUF values are not the stored bytes: Gemma's norms (HF
// stores w, GGUF holds w + 1) and tensors convert_hf_to_gguf.py generates (llama3's rope_freqs,
// Phi-3's long/short rope factors). Each is a small F32 ByteSource of its own, computed on first
// read, so every reader of a GGUFFile (tensor reads, layer streaming, export) sees the GGUF values.
// Everything else stays a zero-copy view into the shards.
import type { ByteSource } from '../byte-source.ts';
import { checkRange } from '../range.ts';
import { GGMLType } from '../../quant/types.ts';
import { bf16ToF32, f16ToF32, f32ToF16 } from '../../quant/half.ts';
import { EngineError } from '../../shared/errors.ts';
import type { ShardTensor } from '../safetensors/set.ts';

/** An F32 tensor's bytes from `compute` (run once, on the first read). */
export function computedSource(name: string, nValues: number, compute: () => Promise<Float32Array>): ByteSource {
  let bytes: Promise<Uint8Array> | undefined;
  const get = () => (bytes ??= compute().then((v) => {
    if (v.length !== nValues) throw new EngineError('BAD_SHAPE', `${name}: computed ${v.length} values, expected ${nValues}.`);
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }));
  const size = nValues * 4;
  return {
    size,
    name,
    async read(offset, length) {
      checkRange(name, size, offset, length);
      return (await get()).subarray(offset, offset + length);
    },
    async readInto(offset, dst) {
      checkRange(name, size, offset, dst.length);
      dst.set((await get()).subarray(offset, offset + dst.length));
    },
  };
}

/** Values of a stored F32/F16/BF16 tensor as numbers. */
function decode(type: number, raw: Uint8Array, n: number): { values: Float32Array; half: boolean } {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const values = new Float32Array(n);
  if (type === GGMLType.F32) for (let i = 0; i < n; i++) values[i] = view.getFloat32(4 * i, true);
  else if (type === GGMLType.F16) for (let i = 0; i < n; i++) values[i] = f16ToF32(view.getUint16(2 * i, true));
  else if (type === GGMLType.BF16) for (let i = 0; i < n; i++) values[i] = bf16ToF32(view.getUint16(2 * i, true));
  else throw new EngineError('UNSUPPORTED_TYPE', `cannot shift a tensor of ggml type ${type}`);
  return { values, half: type === GGMLType.F16 };
}

/**
 * `t` + shift as F32, rounded where convert_hf_to_gguf.py rounds it: it widens BF16 to F32 before
 * adding, but adds to F16 in F16 (and only then stores the norm as F32).
 */
export function shiftedSource(shard: ByteSource, t: ShardTensor, shift: number): ByteSource {
  const n = t.byteSize / (t.type === GGMLType.F32 ? 4 : 2);
  return computedSource(`${shard.name}:${t.name}`, n, async () => {
    const { values, half } = decode(t.type, await shard.read(t.offset, t.byteSize), n);
    for (let i = 0; i < n; i++) values[i] = half ? f16ToF32(f32ToF16(values[i] + shift)) : values[i] + shift;
    return values;
  });
}
