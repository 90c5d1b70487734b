// Bench models: random-weight F32 GGUFs at real shapes (Llama, and Qwen3 / Gemma 3 at the 155M
// shape so each family's cost shows beside Llama's), written by our GGUF writer, then quantized by
// `cli quantize`. Weights are normal(0, 0.02) and norms 1, so activations stay finite.
// Run directly (`tsx bench/make-models.ts [--quick] [shape id…]`) or through bench/run.ts, which calls ensureModels.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValueType } from '../src/formats/gguf/constants.ts';
import { openGGUF, type GGUFValue } from '../src/formats/gguf/reader.ts';
import { encodeGGUFHeader, type WriterEntry, type WriterTensor } from '../src/formats/gguf/writer.ts';
import { openNodeFile } from '../src/formats/node-file-source.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MODELS_DIR = path.join(ROOT, 'bench/models');
const FIXTURES = process.env.FIXTURES_DIR ?? path.resolve(ROOT, '../shared/fixtures');
export const QUANTS = ['Q4_K_M', 'Q8_0', 'Q4_0'] as const;

export interface BenchShape {
  id: string;
  title: string;
  /** family: its own tensors and keys (q/k norms; Gemma's sandwich norms, window, GELU) */
  arch: 'llama' | 'qwen3' | 'gemma3';
  /** the big shape: fewer runs per cell (wllama prefills it at a few tok/s) */
  big?: boolean;
  /** made and run only when asked for (--models, or the section that needs it), not in the default list */
  extra?: boolean;
  dim: number; layers: number; heads: number; kvHeads: number; ff: number; vocab: number;
  ropeBase: number; tied: boolean;
  /** qwen3: the real 151k Qwen3 vocabulary of the arch fixture (vocab is then its size) */
  vocabSource: 'llama-spm' | 'synthetic' | 'qwen3';
}

/** tokens in the Qwen3 vocabulary of the arch fixture (dev-qwen3.Q8_0.gguf) */
const QWEN3_VOCAB = 151669;
const SHAPE_155M = { dim: 1024, layers: 8, heads: 16, kvHeads: 4, ff: 2816, vocab: 32000, tied: false, vocabSource: 'llama-spm' } as const;

export const SHAPES: BenchShape[] = [
  { id: 'llama-155m', title: 'Llama 155M (dim 1024, 8 layers)', arch: 'llama', ...SHAPE_155M, ropeBase: 10000 },
  { id: 'qwen3-155m', title: 'Qwen3 at the 155M shape', arch: 'qwen3', ...SHAPE_155M, ropeBase: 1e6 },
  { id: 'gemma3-155m', title: 'Gemma 3 at the 155M shape (window 512)', arch: 'gemma3', ...SHAPE_155M, ropeBase: 1e6 },
  { id: 'llama-3.2-1b-shape', title: 'Llama-3.2-1B shape (dim 2048, 16 layers)', arch: 'llama', big: true, dim: 2048, layers: 16,
    heads: 32, kvHeads: 8, ff: 8192, vocab: 128256, ropeBase: 500000, tied: true, vocabSource: 'synthetic' },
  // the constrained-decoding bench: a grammar mask over a real big vocabulary (tied, as Qwen3-0.6B's)
  { id: 'qwen3-155m-151k', title: 'Qwen3 at the 155M shape with its real 151k vocabulary', arch: 'qwen3', ...SHAPE_155M,
    vocab: QWEN3_VOCAB, tied: true, vocabSource: 'qwen3', ropeBase: 1e6, extra: true },
];

/** The shapes a plain run measures (the extra ones only when named). */
export const DEFAULT_SHAPES = SHAPES.filter((s) => !s.extra);

export const modelPath = (s: BenchShape, q: string) => path.join(MODELS_DIR, `${s.id}.${q}.gguf`);

const str = (key: string, value: string): WriterEntry => ({ key, value, type: { type: ValueType.STRING } });
const u32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.UINT32 } });
const f32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.FLOAT32 } });

/** tokenizer.* entries of llama.cpp's llama-spm vocab file, value types kept. */
async function spmVocab(): Promise<WriterEntry[]> {
  const f = await openGGUF(await openNodeFile(path.join(FIXTURES, 'tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf')));
  await f.close();
  return [...f.metadata].filter(([k]) => k.startsWith('tokenizer.')).map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
}

/** tokenizer.* entries of the Qwen3 arch fixture (the real vocabulary, converted by llama.cpp). */
async function qwen3Vocab(n: number): Promise<WriterEntry[]> {
  const f = await openGGUF(await openNodeFile(path.join(FIXTURES, 'arch/dev-qwen3.Q8_0.gguf')));
  await f.close();
  const size = (f.metadata.get('tokenizer.ggml.tokens') as unknown[]).length;
  if (size !== n) throw new Error(`the Qwen3 fixture has ${size} tokens, the bench shape expects ${n}`);
  return [...f.metadata].filter(([k]) => k.startsWith('tokenizer.')).map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
}

/** SPM vocab: <unk>, <s>, </s>, the 256 byte tokens, then unique filler pieces (the bench feeds random ids). */
export function syntheticVocab(n: number): WriterEntry[] {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) { tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`); types.push(6); }
  while (tokens.length < n) { tokens.push(`\u2581t${tokens.length}`); types.push(1); }
  const scores = Float32Array.from(tokens, (_, i) => (i < 259 ? 0 : -i));
  const arr = (key: string, value: GGUFValue, elemType: number): WriterEntry => ({ key, value, type: { type: ValueType.ARRAY, elemType } });
  return [
    str('tokenizer.ggml.model', 'llama'), str('tokenizer.ggml.pre', 'default'),
    arr('tokenizer.ggml.tokens', tokens, ValueType.STRING), arr('tokenizer.ggml.scores', scores, ValueType.FLOAT32),
    arr('tokenizer.ggml.token_type', Int32Array.from(types), ValueType.INT32),
    u32('tokenizer.ggml.bos_token_id', 1), u32('tokenizer.ggml.eos_token_id', 2), u32('tokenizer.ggml.unknown_token_id', 0),
  ];
}

function tensorList(s: BenchShape): WriterTensor[] {
  const t = (name: string, ...shape: number[]): WriterTensor => ({ name, type: 0, shape, byteSize: 4 * shape.reduce((a, b) => a * b, 1) });
  const hd = s.dim / s.heads;
  const kv = hd * s.kvHeads;
  const list = [t('token_embd.weight', s.dim, s.vocab)];
  for (let i = 0; i < s.layers; i++) {
    const p = `blk.${i}.`;
    list.push(t(`${p}attn_norm.weight`, s.dim), t(`${p}attn_q.weight`, s.dim, s.dim), t(`${p}attn_k.weight`, s.dim, kv),
      t(`${p}attn_v.weight`, s.dim, kv), t(`${p}attn_output.weight`, s.dim, s.dim), t(`${p}ffn_norm.weight`, s.dim),
      t(`${p}ffn_gate.weight`, s.dim, s.ff), t(`${p}ffn_up.weight`, s.dim, s.ff), t(`${p}ffn_down.weight`, s.ff, s.dim));
    if (s.arch !== 'llama') list.push(t(`${p}attn_q_norm.weight`, hd), t(`${p}attn_k_norm.weight`, hd));
    if (s.arch === 'gemma3') list.push(t(`${p}post_attention_norm.weight`, s.dim), t(`${p}post_ffw_norm.weight`, s.dim));
  }
  list.push(t('output_norm.weight', s.dim));
  if (!s.tied) list.push(t('output.weight', s.dim, s.vocab));
  return list;
}

/** Deterministic normal(0, sd) values (xorshift32 + Box–Muller): fast enough for a billion weights. */
function fillNormal(out: Float32Array, seed: { s: number }, sd: number): void {
  let x = seed.s;
  const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return ((x >>> 0) + 0.5) / 4294967296; };
  for (let i = 0; i < out.length; i += 2) {
    const r = sd * Math.sqrt(-2 * Math.log(next())), a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
  }
  seed.s = x;
}

export async function writeF32(s: BenchShape, file: string): Promise<void> {
  const a = s.arch;
  const entries = [
    str('general.architecture', a), str('general.name', `${s.id}-random`),
    u32(`${a}.context_length`, 4096), u32(`${a}.embedding_length`, s.dim), u32(`${a}.feed_forward_length`, s.ff),
    u32(`${a}.block_count`, s.layers), u32(`${a}.attention.head_count`, s.heads), u32(`${a}.attention.head_count_kv`, s.kvHeads),
    u32(`${a}.rope.dimension_count`, s.dim / s.heads), f32(`${a}.rope.freq_base`, s.ropeBase),
    f32(`${a}.attention.layer_norm_rms_epsilon`, 1e-5), u32('general.file_type', 0), u32(`${a}.vocab_size`, s.vocab),
    // Gemma 3 1B's window and local rope base
    ...(a === 'gemma3' ? [u32('gemma3.attention.sliding_window', 512), f32('gemma3.rope.freq_base_swa', 10000)] : []),
    ...(s.vocabSource === 'llama-spm' ? await spmVocab() : s.vocabSource === 'qwen3' ? await qwen3Vocab(s.vocab) : syntheticVocab(s.vocab)),
  ];
  const tensors = tensorList(s);
  const { header, relOffsets, dataOffset } = encodeGGUFHeader(entries, tensors);
  const fh = await open(`${file}.part`, 'w');
  try {
    await fh.write(header, 0, header.length, 0);
    const seed = { s: 0x9e3779b9 };
    const chunk = new Float32Array(1 << 22);
    for (let i = 0; i < tensors.length; i++) {
      const n = tensors[i].byteSize / 4;
      for (let done = 0; done < n; done += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, n - done));
        if (tensors[i].shape.length === 1) part.fill(1);
        else fillNormal(part, seed, 0.02);
        const bytes = new Uint8Array(part.buffer, 0, part.byteLength);
        await fh.write(bytes, 0, bytes.length, dataOffset + relOffsets[i] + done * 4);
      }
      process.stderr.write(`\r${path.basename(file)}: ${i + 1}/${tensors.length} tensors\x1b[K`);
    }
  } finally {
    await fh.close();
  }
  process.stderr.write('\n');
  await rename(`${file}.part`, file);
}

export function quantize(input: string, type: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'quantize', '--in', input, '--type', type, '--out', out],
      { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cli quantize --type ${type} ${path.basename(input)} exited with ${code}`))));
  });
}

/** Writes whatever of the bench models is missing; quantizes two at a time (one per core). */
export async function ensureModels(shapes: BenchShape[] = DEFAULT_SHAPES, quants: readonly string[] = QUANTS): Promise<void> {
  await mkdir(MODELS_DIR, { recursive: true });
  for (const s of shapes) {
    const todo = quants.filter((q) => !existsSync(modelPath(s, q)));
    if (!todo.length) continue;
    const src = modelPath(s, 'F32');
    if (!existsSync(src)) await writeF32(s, src);
    process.stderr.write(`quantizing ${s.id} to ${todo.join(', ')} (slow: llama.cpp's reference quantizers in plain JS)\n`);
    const queue = [...todo];
    const lane = async () => { for (let q = queue.shift(); q; q = queue.shift()) await quantize(src, q, modelPath(s, q)); };
    await Promise.all([lane(), lane()]);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ids = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const shapes = ids.length ? SHAPES.filter((s) => ids.includes(s.id)) : DEFAULT_SHAPES;
  await ensureModels(process.argv.includes('--quick') ? shapes.slice(0, 1) : shapes);
}
