// An MLC-LLM weight folder (mlc-chat-config.json, tensor-cache.json, params_shard_*.bin,
// tokenizer.json) presented as the GGUFFile the loader reads, run by our own kernels (no TVM
// library): metadata from mlc-chat-config's model_config through the HF family's config → metadata
// code (families.ts), generated tensors (llama3 rope_freqs, longrope factors) computed as the HF path
// does, tensors under GGUF names in ggml `ne` order. q4f16_1/q4f32_1 weights become our MLC blocks (src/quant/mlc_q4.ts) interleaved at
// read time (block-source.ts); q0f16/q0f32 tensors pass through. MLC keeps fused qkv_proj (Qwen: c_attn) and
// gate_up_proj (gate first) and HF's q/k row order, so the model runs rotate-half rope
// (ROPE_NEOX_KEY) and a fused gate|up (FUSED_GATE_UP_KEY).
import { tensorAccess, type GGUFTensorInfo } from '../gguf/reader.ts';
import { ROPE_NEOX_KEY, type HFModelFile } from '../hf/folder.ts';
import { computedSource } from '../hf/computed.ts';
import { readJsonFile, type FolderFiles } from '../safetensors/set.ts';
import type { ByteSource } from '../byte-source.ts';
import { GGMLType } from '../../quant/types.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';
import { blockSource, type Segment } from './block-source.ts';
import { MLC_CONFIG } from './detect.ts';
import { readConvTemplate, type ConvTemplate } from './conv-template.ts';
import { MLC_FAMILIES, mlcConfig, mlcMetadata, mlcNamer } from './families.ts';
import { parseTensorCache, TENSOR_CACHE_NAMES, type TensorCache } from './tensor-cache.ts';

export { MLC_CONFIG };

/** Metadata key (not one llama.cpp writes): `ffn_up` holds gate and up, gate first (as phi3's). */
export const FUSED_GATE_UP_KEY = 'edge.ffn.fused_gate_up';

/** Quantization schemes read: model dtype, and whether weights are 4-bit groups. */
const SCHEMES: Record<string, { name: string; dtype: 'float16' | 'float32'; q4: boolean }> = {
  q4f16_1: { name: 'q4f16_1', dtype: 'float16', q4: true }, q4f32_1: { name: 'q4f32_1', dtype: 'float32', q4: true },
  q0f16: { name: 'q0f16', dtype: 'float16', q4: false }, q0f32: { name: 'q0f32', dtype: 'float32', q4: false },
};
const SUPPORTED_TYPES = Object.keys(MLC_FAMILIES);

/** What the folder says about chatting, beyond the weights (MLC's own conversation template). */
export interface MLCChatSettings {
  readonly quantization: string;
  readonly modelType: string;
  /** the object form (checked), or a name from mlc-llm's registry (older folders) */
  readonly convTemplate?: ConvTemplate | string;
  readonly contextWindowSize?: number;
  readonly sampling: Readonly<Record<string, number>>;
}

export interface MLCModelFile extends HFModelFile {
  readonly mlc: MLCChatSettings;
}

type Config = Record<string, unknown>;

const PLAIN_TYPES: Record<string, number> = { float32: GGMLType.F32, float16: GGMLType.F16, bfloat16: GGMLType.BF16 };

/** The folder's tensors as segments of one block source, with their infos. */
function layout(cache: TensorCache, shards: ByteSource[], scheme: (typeof SCHEMES)[string], where: string, ggufName: (base: string) => string) {
  const segments: Segment[] = [];
  const infos: Omit<GGUFTensorInfo, 'offset'>[] = [];
  const used = new Set<string>();
  const add = (name: string, type: number, shape: number[], seg: Segment, bytes: number) => {
    infos.push({ name, type, shape, nElements: shape.reduce((a, b) => a * b, 1), byteSize: bytes, fileIndex: 0 });
    segments.push(seg);
  };
  for (const r of cache.records.values()) {
    if (used.has(r.name)) continue;
    const src = shards[r.shard];
    const q = /^(.*)\.q_weight$/.exec(r.name);
    if (q) {
      const s = cache.records.get(`${q[1]}.q_scale`);
      const t = `tensor '${q[1]}'`;
      if (!s) throw new EngineError('MLC_CORRUPT', `${where}: ${t} has q_weight but no q_scale.`);
      const [rows, words] = r.shape;
      if (r.shape.length !== 2 || r.dtype !== 'uint32' || s.shape.length !== 2 || s.shape[0] !== rows || s.shape[1] * 4 !== words) {
        throw new EngineError('MLC_CORRUPT', `${where}: ${t}: q_weight ${JSON.stringify(r.shape)} ${r.dtype} and q_scale ${JSON.stringify(s.shape)} are not 4-bit groups of 32.`);
      }
      const f32 = s.dtype === 'float32';
      if (!scheme.q4 || s.dtype !== scheme.dtype) {
        throw new EngineError('MLC_CORRUPT', `${where}: ${t} has 4-bit groups with ${s.dtype} scales, which the folder's quantization (${scheme.name}) does not make.`);
      }
      const groups = rows * s.shape[1];
      add(ggufName(q[1]), f32 ? GGMLType.MLC_Q4F32 : GGMLType.MLC_Q4F16, [words * 8, rows], {
        kind: 'groups', groups, blockScale: f32 ? 4 : 2,
        weights: { src, offset: r.byteOffset },
        scales: { src: shards[s.shard], offset: s.byteOffset, bytes: s.format === 'f32-to-bf16' ? 2 : f32 ? 4 : 2, bf16: s.format === 'f32-to-bf16' },
      }, groups * (f32 ? 20 : 18));
      used.add(s.name);
      continue;
    }
    if (r.name.endsWith('.q_scale')) {
      if (!cache.records.has(r.name.replace(/\.q_scale$/, '.q_weight'))) throw new EngineError('MLC_CORRUPT', `${where}: tensor '${r.name}' has no q_weight.`);
      continue;
    }
    // biases (Qwen2's c_attn) take the weight's GGUF name with .bias
    const bias = r.name.endsWith('.bias');
    const base = r.name.replace(/\.(weight|bias)$/, '');
    if (base === r.name) throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: tensor '${r.name}' is not part of the layout this engine reads from MLC folders.`);
    const gname = bias ? ggufName(base).replace(/\.weight$/, '.bias') : ggufName(base);
    // f32-to-bf16 records hold bf16 bytes: read as bf16, the value the f32 was rounded to
    const type = r.format === 'f32-to-bf16' ? GGMLType.BF16 : PLAIN_TYPES[r.dtype];
    if (type === undefined) throw new UnsupportedError('UNSUPPORTED_TYPE', `${where}: tensor '${r.name}' has dtype ${r.dtype} (supported: float32, float16, bfloat16).`);
    add(gname, type, r.shape.length ? [...r.shape].reverse() : [1], { kind: 'plain', src, offset: r.byteOffset, bytes: r.nbytes }, r.nbytes);
  }
  return { segments, infos };
}

/** Opens an MLC-LLM llama-family folder as a GGUFFile (its shards stay open until close()). */
export async function openMLCFolder(dir: FolderFiles): Promise<MLCModelFile> {
  const cacheName = TENSOR_CACHE_NAMES.find((n) => dir.names.includes(n));
  for (const f of [MLC_CONFIG, cacheName ?? TENSOR_CACHE_NAMES[0], 'tokenizer.json']) {
    if (!dir.names.includes(f)) throw new EngineError('IO', `${dir.name} has no ${f}; it is not an MLC-LLM model folder.`);
  }
  const where = `${dir.name}/${MLC_CONFIG}`;
  const cfg = await readJsonFile(dir, MLC_CONFIG) as Config;
  const convTemplate = readConvTemplate(cfg.conv_template, where);
  const quant = String(cfg.quantization);
  const scheme = SCHEMES[quant];
  if (!scheme) throw new UnsupportedError('UNSUPPORTED_TYPE', `${where}: quantization '${quant}' is not supported (supported: ${Object.keys(SCHEMES).join(', ')}).`);
  const modelType = String(cfg.model_type);
  if (!SUPPORTED_TYPES.includes(modelType)) throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: model_type '${modelType}' cannot be read from an MLC folder yet (supported: ${SUPPORTED_TYPES.join(', ')}).`);
  const mc = (cfg.model_config ?? {}) as Config;
  const name = dir.name.split(/[\\/]/).filter(Boolean).at(-1) ?? 'mlc';
  const family = MLC_FAMILIES[modelType];
  const c = mlcConfig(family, mc, where);
  const { meta: metadata, extra } = mlcMetadata(family, c, cfg, where, name);
  // MLC keeps HF's q/k row order where llama.cpp's converter permutes it, and gate_up_proj fused
  if (family.family.permutesQK) metadata.set(ROPE_NEOX_KEY, true);
  metadata.set(FUSED_GATE_UP_KEY, true);
  const ggufName = mlcNamer(family, c, dir.name);
  const arch = String(metadata.get('general.architecture'));
  const cache = parseTensorCache(await readJsonFile(dir, cacheName!), dir.name, cacheName!);
  const tokenizerJson = await readJsonFile(dir, 'tokenizer.json');
  const tokenizerConfig = (dir.names.includes('tokenizer_config.json') ? await readJsonFile(dir, 'tokenizer_config.json') : {}) as Config;
  if (typeof tokenizerConfig.chat_template === 'string') metadata.set('tokenizer.chat_template', tokenizerConfig.chat_template);
  const shards: ByteSource[] = [];
  try {
    for (const s of cache.shards) {
      if (!dir.names.includes(s.dataPath)) throw new EngineError('SPLIT_MISSING', `${dir.name}: shard ${s.dataPath}, named in ${cacheName}, is missing from the folder.`);
      const src = await dir.open(s.dataPath);
      shards.push(src);
      if (src.size < s.nbytes) throw new EngineError('MLC_TRUNCATED', `${dir.name}/${s.dataPath} has ${src.size} bytes, but ${cacheName} says ${s.nbytes}; the download is probably incomplete.`);
    }
    const { segments, infos } = layout(cache, shards, scheme, dir.name, ggufName);
    // tensors convert_hf_to_gguf.py generates (llama3's rope_freqs, longrope factors): F32 segments computed in memory
    for (const x of extra) {
      const n = x.values.length;
      segments.push({ kind: 'plain', src: computedSource(`${dir.name}:${x.name}`, n, async () => x.values), offset: 0, bytes: n * 4 });
      infos.push({ name: x.name, type: GGMLType.F32, shape: [n], nElements: n, byteSize: n * 4, fileIndex: 0 });
    }
    const { source, starts } = blockSource(`${dir.name} (MLC weights)`, segments, shards);
    const byName = new Map<string, GGUFTensorInfo>();
    infos.forEach((t, i) => byName.set(t.name, { ...t, offset: starts[i] }));
    const output = byName.get('output.weight');
    if (!byName.has('token_embd.weight') && output) byName.set('token_embd.weight', { ...output, name: 'token_embd.weight' });
    if (c.raw.tie_word_embeddings === true) byName.delete('output.weight');
    const sampling: Record<string, number> = {};
    for (const k of ['temperature', 'top_p', 'repetition_penalty', 'presence_penalty', 'frequency_penalty']) {
      if (typeof cfg[k] === 'number') sampling[k] = cfg[k] as number;
    }
    return {
      version: 3,
      metadata,
      metadataTypes: new Map(),
      tensors: [...byName.values()],
      alignment: 1,
      sources: [source],
      hfTokenizer: { tokenizerJson, tokenizerConfig, vocabSize: metadata.get(`${arch}.vocab_size`) as number },
      mlc: {
        quantization: quant, modelType, convTemplate, sampling,
        contextWindowSize: typeof cfg.context_window_size === 'number' ? cfg.context_window_size : undefined,
      },
      ...tensorAccess([source], byName, (m) => new EngineError('BAD_ARGUMENT', m)),
    };
  } catch (e) {
    await Promise.all(shards.map((s) => s.close?.()));
    throw e;
  }
}
