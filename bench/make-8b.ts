// A Llama-3-8B-shaped Q4 model with random weights (32 layers, dim 4096, ffn 14336, 32 heads /
// 8 KV heads, vocab 128256; ~4.6 GB): every matrix Q4_K, the LM head Q6_K, norms 1. Blocks are
// written directly, not quantized: random quants with small finite f16 scales (d, dmin chosen so
// weights are zero-mean, |w| ≲ 0.03), so activations stay finite. A pool of random blocks is
// reused across tensors at rotating offsets — enough for a speed and memory bench, written in
// seconds. `tsx bench/make-8b.ts [8b|1b] [OUT]` (default bench/models/<shape id>.Q4_K.gguf; 1b: the
// bench's Llama-3.2-1B shape, tied head, for the streaming curve).
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { ValueType } from '../src/formats/gguf/constants.ts';
import { encodeGGUFHeader, type WriterEntry, type WriterTensor } from '../src/formats/gguf/writer.ts';
import { writeF16 } from '../src/quant/half.ts';
import { GGMLType } from '../src/quant/types.ts';
import { MODELS_DIR, syntheticVocab } from './make-models.ts';

interface Shape { id: string; dim: number; layers: number; heads: number; kvHeads: number; ff: number; vocab: number; tied: boolean }
export const DIRECT_SHAPES: Record<string, Shape> = {
  '8b': { id: 'llama3-8b-shape', dim: 4096, layers: 32, heads: 32, kvHeads: 8, ff: 14336, vocab: 128256, tied: false },
  // the bench's Llama-3.2-1B shape (tied head), for the streaming curve without quantizing an F32 first
  '1b': { id: 'llama-3.2-1b-shape', dim: 2048, layers: 16, heads: 32, kvHeads: 8, ff: 8192, vocab: 128256, tied: true },
  // written in a second or two for a test (~90 MB): big enough that the few MB Node's own heaps grow
  // by while a model loads are small beside a 25% budget, so peak RSS measures the engine's memory
  '90m': { id: 'llama-90m-shape', dim: 768, layers: 24, heads: 12, kvHeads: 4, ff: 2048, vocab: 8192, tied: true },
};
let S: Shape = DIRECT_SHAPES['8b'];
interface Kind { type: number; bytes: number }
const Q4K: Kind = { type: GGMLType.Q4_K, bytes: 144 }, Q6K: Kind = { type: GGMLType.Q6_K, bytes: 210 };

let seed = 0x2545f491;
const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };

/** `n` random blocks of 256 values with valid headers. */
function pool(kind: Kind, n: number): Uint8Array {
  const out = new Uint8Array(n * kind.bytes);
  for (let i = 0; i < out.length; i += 4) new DataView(out.buffer).setUint32(i, rnd());
  for (let b = 0; b < n; b++) {
    const o = b * kind.bytes;
    if (kind === Q4K) {
      // d·sc·q − dmin·m with sc, m ∈ 0..63 and q ∈ 0..15: dmin = 7.5·d centres the values
      writeF16(out, o, 4e-5);
      writeF16(out, o + 2, 3e-4);
    } else {
      // Q6_K: ql[128] qh[64] scales[16] (int8) d; d·scale·(q − 32)
      for (let j = 0; j < 16; j++) out[o + 192 + j] = 1 + (rnd() % 12);
      writeF16(out, o + 208, 8e-5);
    }
  }
  return out;
}

function tensors(): (WriterTensor & { kind?: Kind })[] {
  const mat = (name: string, cols: number, rows: number, kind = Q4K) =>
    ({ name, type: kind.type, shape: [cols, rows], byteSize: (cols * rows / 256) * kind.bytes, kind });
  const vec = (name: string) => ({ name, type: GGMLType.F32, shape: [S.dim], byteSize: S.dim * 4 });
  const kv = (S.dim / S.heads) * S.kvHeads;
  const list: (WriterTensor & { kind?: Kind })[] = [mat('token_embd.weight', S.dim, S.vocab)];
  for (let i = 0; i < S.layers; i++) {
    const p = `blk.${i}.`;
    list.push(vec(`${p}attn_norm.weight`), mat(`${p}attn_q.weight`, S.dim, S.dim), mat(`${p}attn_k.weight`, S.dim, kv),
      mat(`${p}attn_v.weight`, S.dim, kv), mat(`${p}attn_output.weight`, S.dim, S.dim), vec(`${p}ffn_norm.weight`),
      mat(`${p}ffn_gate.weight`, S.dim, S.ff), mat(`${p}ffn_up.weight`, S.dim, S.ff), mat(`${p}ffn_down.weight`, S.ff, S.dim));
  }
  list.push(vec('output_norm.weight'));
  if (!S.tied) list.push(mat('output.weight', S.dim, S.vocab, Q6K));
  return list;
}

export async function make8b(shape = '8b', file?: string, quiet = false): Promise<string> {
  S = DIRECT_SHAPES[shape];
  if (!S) throw new Error(`unknown shape ${shape}; known: ${Object.keys(DIRECT_SHAPES).join(', ')}`);
  file ??= path.join(MODELS_DIR, `${S.id}.Q4_K.gguf`);
  const str = (key: string, value: string): WriterEntry => ({ key, value, type: { type: ValueType.STRING } });
  const u32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.UINT32 } });
  const f32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.FLOAT32 } });
  const entries = [
    str('general.architecture', 'llama'), str('general.name', `${S.id}-random`),
    u32('llama.context_length', 8192), u32('llama.embedding_length', S.dim), u32('llama.feed_forward_length', S.ff),
    u32('llama.block_count', S.layers), u32('llama.attention.head_count', S.heads), u32('llama.attention.head_count_kv', S.kvHeads),
    u32('llama.rope.dimension_count', S.dim / S.heads), f32('llama.rope.freq_base', 500000),
    f32('llama.attention.layer_norm_rms_epsilon', 1e-5), u32('general.file_type', 15), u32('llama.vocab_size', S.vocab),
    ...syntheticVocab(S.vocab),
  ];
  const list = tensors();
  const { header, relOffsets, dataOffset } = encodeGGUFHeader(entries, list);
  const pools = new Map<Kind, Uint8Array>([[Q4K, pool(Q4K, 1 << 16)], [Q6K, pool(Q6K, 1 << 16)]]);
  const ones = new Float32Array(S.dim).fill(1);
  const fh = await open(`${file}.part`, 'w');
  try {
    await fh.write(header, 0, header.length, 0);
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (!t.kind) { await fh.write(new Uint8Array(ones.buffer), 0, t.byteSize, dataOffset + relOffsets[i]); continue; }
      const src = pools.get(t.kind)!;
      for (let done = 0; done < t.byteSize;) {
        // start somewhere else in the pool each time (block-aligned) so tensors differ
        const start = (rnd() % (src.length / t.kind.bytes / 2)) * t.kind.bytes;
        const n = Math.min(t.byteSize - done, src.length - start);
        await fh.write(src, start, n, dataOffset + relOffsets[i] + done);
        done += n;
      }
      if (!quiet) process.stderr.write(`\r${path.basename(file)}: ${i + 1}/${list.length} tensors\x1b[K`);
    }
  } finally {
    await fh.close();
  }
  if (!quiet) process.stderr.write('\n');
  await rename(`${file}.part`, file);
  return file;
}

if (process.argv[1]?.endsWith('make-8b.ts')) await make8b(process.argv[2], process.argv[3]);
