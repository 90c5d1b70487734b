// Kernel-work driver: writes a random-weight Llama-shaped F16 GGUF (the 155M shape:
// dim 1024, 8 layers, 16 heads, 4 KV heads, ff 2816, vocab 32000; SPM vocab from the llama.cpp
// fixture) and quantizes it to Q4_K_M and Q8_0 with the project's quantizer. Cached in a temp dir.
// usage: npx tsx bench/kernels/make-model.ts [outDir]   → prints the paths
import { existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { quantizeFile } from '../../src/cli/quantize.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { encodeGGUFHeader, type WriterEntry, type WriterTensor } from '../../src/formats/gguf/writer.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import type { FileTypeName } from '../../src/quant/quantize-model.ts';
import { f32ToF16 } from '../../src/quant/half.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../../test/fixtures.ts';

const SHAPE = { dim: 1024, layers: 8, heads: 16, kvHeads: 4, ff: 2816, vocab: 32000 };
const U32 = { type: 4 };
const F32 = { type: 6 };

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tensorList(): { name: string; shape: number[]; norm: boolean }[] {
  const { dim, layers, heads, kvHeads, ff, vocab } = SHAPE;
  const kv = (dim / heads) * kvHeads;
  const t = [{ name: 'token_embd.weight', shape: [dim, vocab], norm: false }];
  for (let l = 0; l < layers; l++) {
    const b = (s: string, shape: number[], norm = false) => t.push({ name: `blk.${l}.${s}`, shape, norm });
    b('attn_norm.weight', [dim], true);
    b('attn_q.weight', [dim, dim]);
    b('attn_k.weight', [dim, kv]);
    b('attn_v.weight', [dim, kv]);
    b('attn_output.weight', [dim, dim]);
    b('ffn_norm.weight', [dim], true);
    b('ffn_gate.weight', [dim, ff]);
    b('ffn_up.weight', [dim, ff]);
    b('ffn_down.weight', [ff, dim]);
  }
  t.push({ name: 'output_norm.weight', shape: [dim], norm: true }, { name: 'output.weight', shape: [dim, vocab], norm: false });
  return t;
}

async function writeF16Model(out: string): Promise<void> {
  const vocab = await openGGUF(await openNodeFile(fixture('tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf')));
  const { dim, layers, heads, kvHeads, ff } = SHAPE;
  const entries: WriterEntry[] = [
    { key: 'general.architecture', value: 'llama', type: { type: 8 } },
    { key: 'general.name', value: 'bench-155m', type: { type: 8 } },
    { key: 'llama.context_length', value: 2048, type: U32 },
    { key: 'llama.embedding_length', value: dim, type: U32 },
    { key: 'llama.block_count', value: layers, type: U32 },
    { key: 'llama.feed_forward_length', value: ff, type: U32 },
    { key: 'llama.attention.head_count', value: heads, type: U32 },
    { key: 'llama.attention.head_count_kv', value: kvHeads, type: U32 },
    { key: 'llama.rope.dimension_count', value: dim / heads, type: U32 },
    { key: 'llama.attention.layer_norm_rms_epsilon', value: 1e-5, type: F32 },
  ];
  for (const [key, value] of vocab.metadata) {
    if (key.startsWith('tokenizer.')) entries.push({ key, value, type: vocab.metadataTypes.get(key)! });
  }
  await vocab.close();
  // norms stay F32 (as in real models); matrices F16
  const list = tensorList();
  const tensors: WriterTensor[] = list.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    return { name: t.name, shape: t.shape, type: t.norm ? GGMLType.F32 : GGMLType.F16, byteSize: n * (t.norm ? 4 : 2) };
  });
  const { header, relOffsets, dataOffset } = encodeGGUFHeader(entries, tensors);
  const fh = await open(out, 'w');
  try {
    await fh.write(header, 0, header.length, 0);
    const r = mulberry(42);
    for (let i = 0; i < list.length; i++) {
      const n = tensors[i].byteSize / (list[i].norm ? 4 : 2);
      let data: Uint8Array;
      if (list[i].norm) {
        data = new Uint8Array(Float32Array.from({ length: n }, () => 1 + (r() - 0.5) * 0.2).buffer);
      } else {
        const h = new Uint16Array(n);
        // sum of uniforms ≈ gaussian, std 0.02
        for (let j = 0; j < n; j++) h[j] = f32ToF16((r() + r() + r() - 1.5) * 0.04);
        data = new Uint8Array(h.buffer);
      }
      await fh.write(data, 0, data.length, dataOffset + relOffsets[i]);
    }
  } finally {
    await fh.close();
  }
}

export async function benchModels(dir = path.join(os.tmpdir(), 'edge-llm-kernel-bench'),
  types: readonly FileTypeName[] = ['Q4_K_M', 'Q8_0']): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const f16 = path.join(dir, 'bench-155m-f16.gguf');
  if (!existsSync(f16)) await writeF16Model(f16);
  const out: Record<string, string> = { F16: f16 };
  for (const type of types) {
    const p = path.join(dir, `bench-155m-${type}.gguf`);
    if (!existsSync(p)) await quantizeFile(f16, p, type);
    out[type] = p;
  }
  return out;
}

// by the script's name: bundled into bench/gpu-report.ts (scripts/gpu-pack.sh), import.meta.url is the bundle's
if (/make-model\.ts$/.test(process.argv[1] ?? '')) {
  console.log(JSON.stringify(await benchModels(process.argv[2]), null, 1));
}
