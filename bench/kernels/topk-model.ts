// The top-k measurement's model: Qwen3 at the 155M shape (dim 1024, 8 layers, ff 2816) with the
// real Qwen vocabulary size, 151936 (synthetic tokens), random weights, Q4_K_M. Cached in bench/models.
// usage: npx tsx bench/kernels/topk-model.ts   → prints the path
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS_DIR, quantize, writeF32, type BenchShape } from '../make-models.ts';

export const SHAPE_V151K: BenchShape = { id: 'qwen3-155m-v151k', title: 'Qwen3 at the 155M shape, vocabulary 151936', arch: 'qwen3',
  dim: 1024, layers: 8, heads: 16, kvHeads: 4, ff: 2816, vocab: 151936, ropeBase: 1e6, tied: false, vocabSource: 'synthetic' };

export async function ensureTopKModel(type = 'Q4_K_M'): Promise<string> {
  const out = path.join(MODELS_DIR, `${SHAPE_V151K.id}.${type}.gguf`);
  if (existsSync(out)) return out;
  await mkdir(MODELS_DIR, { recursive: true });
  const f32 = path.join(MODELS_DIR, `${SHAPE_V151K.id}.F32.gguf`);
  if (!existsSync(f32)) await writeF32(SHAPE_V151K, f32);
  await quantize(f32, type, out);
  await rm(f32); // 1.6 GB
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(await ensureTopKModel(process.argv[2]));
}
