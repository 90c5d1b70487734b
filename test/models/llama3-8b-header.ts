// A GGUF header with Llama-3-8B's dimensions and no tensor data: the tensor table of the real model
// (32 layers, dim 4096, 8 KV heads, ffn 14336, vocab 128256), block types as llama-quantize assigns
// them for a mix (this repo's planQuantization, which matches llama.cpp's per-tensor choices), and
// the real Llama 3 vocabulary copied from the Llama-3.2 fixture. Served by a ByteSource of the full
// file's size that holds only the header and zeros after it, recording how far reads went.
import { ValueType } from '../../src/formats/gguf/constants.ts';
import { openGGUF, type GGUFFile } from '../../src/formats/gguf/reader.ts';
import { encodeGGUFHeader, type WriterEntry, type WriterTensor } from '../../src/formats/gguf/writer.ts';
import type { ByteSource } from '../../src/formats/byte-source.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { planQuantization, type FileTypeName } from '../../src/quant/quantize-model.ts';
import { getTraits } from '../../src/quant/traits.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

export const LLAMA3_8B = { dim: 4096, nLayers: 32, nHead: 32, nHeadKV: 8, ffDim: 14336, vocab: 128256, ctx: 8192 };

export type CountingSource = ByteSource & { readBytes: number; maxEnd: number; headerBytes: number };

/** A source of `size` bytes of which only `header` exists (zeros after it); counts what is read. */
export function headerOnlySource(header: Uint8Array, size: number, name: string): CountingSource {
  const src = {
    size, name, readBytes: 0, maxEnd: 0, headerBytes: header.length,
    async read(offset: number, length: number): Promise<Uint8Array> {
      src.readBytes += length;
      src.maxEnd = Math.max(src.maxEnd, offset + length);
      const out = new Uint8Array(length);
      if (offset < header.length) out.set(header.subarray(offset, Math.min(header.length, offset + length)));
      return out;
    },
  };
  return src;
}

function tensorsF16(): WriterTensor[] {
  const { dim, nLayers, nHeadKV, ffDim, vocab } = LLAMA3_8B;
  const kv = (dim / LLAMA3_8B.nHead) * nHeadKV;
  const t = (name: string, shape: number[], type: number = GGMLType.F16): WriterTensor => {
    const tr = getTraits(type, name);
    return { name, type, shape, byteSize: (shape.reduce((a, b) => a * b, 1) / tr.blockSize) * tr.typeSize };
  };
  const out = [t('token_embd.weight', [dim, vocab]), t('output_norm.weight', [dim], GGMLType.F32), t('output.weight', [dim, vocab])];
  for (let l = 0; l < nLayers; l++) {
    const b = (s: string) => `blk.${l}.${s}`;
    out.push(t(b('attn_norm.weight'), [dim], GGMLType.F32), t(b('attn_q.weight'), [dim, dim]), t(b('attn_k.weight'), [dim, kv]),
      t(b('attn_v.weight'), [dim, kv]), t(b('attn_output.weight'), [dim, dim]), t(b('ffn_norm.weight'), [dim], GGMLType.F32),
      t(b('ffn_gate.weight'), [dim, ffDim]), t(b('ffn_up.weight'), [dim, ffDim]), t(b('ffn_down.weight'), [ffDim, dim]));
  }
  return out;
}

async function entries(): Promise<WriterEntry[]> {
  const vocabFile = await openGGUF(await openNodeFile(fixture('arch', 'dev-llama32.Q8_0.gguf')));
  await vocabFile.close();
  const u32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.UINT32 } });
  const f32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.FLOAT32 } });
  const { dim, nLayers, nHead, nHeadKV, ffDim, ctx } = LLAMA3_8B;
  return [
    { key: 'general.architecture', value: 'llama', type: { type: ValueType.STRING } },
    { key: 'general.name', value: 'Llama-3-8B (header only)', type: { type: ValueType.STRING } },
    u32('llama.context_length', ctx), u32('llama.embedding_length', dim), u32('llama.block_count', nLayers),
    u32('llama.feed_forward_length', ffDim), u32('llama.attention.head_count', nHead), u32('llama.attention.head_count_kv', nHeadKV),
    u32('llama.rope.dimension_count', dim / nHead), f32('llama.rope.freq_base', 500000), f32('llama.attention.layer_norm_rms_epsilon', 1e-5),
    ...[...vocabFile.metadata].filter(([k]) => k.startsWith('tokenizer.'))
      .map(([key, value]) => ({ key, value, type: vocabFile.metadataTypes.get(key)! })),
  ];
}

function encode(e: WriterEntry[], tensors: WriterTensor[], name: string): CountingSource {
  const { header, relOffsets, dataOffset } = encodeGGUFHeader(e, tensors);
  const last = tensors.length - 1;
  return headerOnlySource(header, dataOffset + relOffsets[last] + tensors[last].byteSize, name);
}

/** The header of Llama-3-8B quantized as `ftype` (e.g. Q4_K_M), opened from a header-only source. */
export async function llama3_8bHeader(ftype: FileTypeName = 'Q4_K_M'): Promise<{ file: GGUFFile; source: CountingSource }> {
  const e = await entries();
  const f16 = await openGGUF(encode(e, tensorsF16(), 'llama3-8b-f16.gguf'));
  const plan = planQuantization(f16, ftype);
  const tensors = plan.tensors.map((t) => ({ name: t.src.name, type: t.type, shape: t.src.shape, byteSize: t.byteSize }));
  const source = encode(plan.entries, tensors, `llama3-8b-${ftype}.gguf`);
  return { file: await openGGUF(source), source };
}
