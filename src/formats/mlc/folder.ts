// An MLC-LLM weight folder (mlc-chat-config.json, tensor-cache.json, params_shard_*.bin,
// tokenizer.json) presented as the GGUFFile the loader reads, run by our own kernels (no TVM
// library): llama.* metadata from mlc-chat-config's model_config (Qwen's model_config keeps HF's
// key names, so the HF family's config → metadata code reads it), tensors under GGUF names in ggml
// `ne` order. q4f16_1/q4f32_1 weights become our MLC blocks (src/quant/mlc_q4.ts) interleaved at
// read time (block-source.ts); q0f16/q0f32 tensors pass through. MLC keeps fused qkv_proj (Qwen: c_attn) and
// gate_up_proj (gate first) and HF's q/k row order, so the model runs rotate-half rope
// (ROPE_NEOX_KEY) and a fused gate|up (FUSED_GATE_UP_KEY).
import { tensorAccess, type GGUFTensorInfo, type GGUFValue } from '../gguf/reader.ts';
import { ROPE_NEOX_KEY, type HFModelFile } from '../hf/folder.ts';
import { HFConfig } from '../hf/config.ts';
import type { HFFamily } from '../hf/family.ts';
import { qwen2Family, qwen3Family } from '../hf/families/qwen.ts';
import { gemma3Family } from '../hf/families/gemma.ts';
import { phi3Family } from '../hf/families/phi3.ts';
import { readJsonFile, type FolderFiles } from '../safetensors/set.ts';
import type { ByteSource } from '../byte-source.ts';
import { GGMLType } from '../../quant/types.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';
import { blockSource, type Segment } from './block-source.ts';
import { readConvTemplate, type ConvTemplate } from './conv-template.ts';
import { parseTensorCache, TENSOR_CACHE_NAMES, type CacheRecord, type TensorCache } from './tensor-cache.ts';

/** Metadata key (not one llama.cpp writes): `ffn_up` holds gate and up, gate first (as phi3's). */
export const FUSED_GATE_UP_KEY = 'edge.ffn.fused_gate_up';
export const MLC_CONFIG = 'mlc-chat-config.json';

/** Quantization schemes read: model dtype, and whether weights are 4-bit groups. */
const SCHEMES: Record<string, { name: string; dtype: 'float16' | 'float32'; q4: boolean }> = {
  q4f16_1: { name: 'q4f16_1', dtype: 'float16', q4: true }, q4f32_1: { name: 'q4f32_1', dtype: 'float32', q4: true },
  q0f16: { name: 'q0f16', dtype: 'float16', q4: false }, q0f32: { name: 'q0f32', dtype: 'float32', q4: false },
};
const LLAMA_TYPES = ['llama', 'mistral'];
/** model_types whose model_config keeps HF's names: read by the HF family's config → metadata code. */
interface HFType { family: HFFamily; cls: string; config?: (mc: Config) => Config; rename?: (base: string) => string }
const HF_TYPES: Record<string, HFType> = {
  qwen2: { family: qwen2Family, cls: 'Qwen2ForCausalLM' },
  qwen3: { family: qwen3Family, cls: 'Qwen3ForCausalLM' },
  gemma3: { family: gemma3Family, cls: 'Gemma3ForCausalLM', config: gemma3Config },
  phi3: { family: phi3Family, cls: 'Phi3ForCausalLM', config: phi3Config, rename: phi3Name },
};

/** MLC's Phi3Config: HF's keys but position_embedding_base for rope_theta; unknown keys in kwargs. */
function phi3Config(mc: Config): Config {
  const { kwargs, position_embedding_base, ...rest } = mc;
  return { ...(kwargs as Config), ...rest, rope_theta: position_embedding_base };
}

/** MLC's Phi-3 module names (transformer.h.N.mixer.*) → HF's. */
function phi3Name(base: string): string {
  return base.replace(/^transformer\.embd$/, 'model.embed_tokens').replace(/^transformer\.norm$/, 'model.norm')
    .replace(/^transformer\.h\./, 'model.layers.').replace(/\.ln$/, '.input_layernorm')
    .replace(/\.mixer\.qkv_proj$/, '.self_attn.qkv_proj').replace(/\.mixer\.out_proj$/, '.self_attn.o_proj');
}

/** MLC's Gemma3Config → HF's keys: its text_config (and the kwargs it kept) under HF's names. */
function gemma3Config(mc: Config): Config {
  const { kwargs, position_embedding_base, sliding_window_size, rope_scaling: _, ...text } = (mc.text_config ?? mc) as Config;
  return { ...(kwargs as Config), ...text, rope_theta: position_embedding_base, sliding_window: sliding_window_size, vocab_size: mc.vocab_size, tie_word_embeddings: true };
}
const SUPPORTED_TYPES = [...LLAMA_TYPES, ...Object.keys(HF_TYPES)];

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

function num(cfg: Config, key: string, where: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw new EngineError('BAD_SHAPE', `${where}: model_config '${key}' is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}.`);
}

/** mlc-chat-config.json → the llama.* keys (MLC's LlamaConfig names: position_embedding_base, …). */
function llamaMetadata(cfg: Config, mc: Config, where: string, name: string): Map<string, GGUFValue> {
  const n = (k: string, fb?: number) => num(mc, k, where, fb);
  if (mc.hidden_act !== undefined && mc.hidden_act !== 'silu') {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: hidden_act '${String(mc.hidden_act)}' is not supported (only silu).`);
  }
  const rs = mc.rope_scaling as Config | null | undefined;
  const ropeType = rs ? String(rs.rope_type ?? rs.type ?? 'default') : 'default';
  if (ropeType !== 'default') {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: rope type '${ropeType}' of an MLC folder is not supported yet (only default).`);
  }
  const nHead = n('num_attention_heads');
  const dim = n('hidden_size');
  const headDim = n('head_dim', dim / nHead);
  const ctx = num(cfg, 'context_window_size', where, n('context_window_size', n('max_position_embeddings', 2048)));
  return new Map<string, GGUFValue>([
    ['general.architecture', 'llama'],
    ['general.name', name],
    ['llama.context_length', ctx],
    ['llama.embedding_length', dim],
    ['llama.feed_forward_length', n('intermediate_size')],
    ['llama.block_count', n('num_hidden_layers')],
    ['llama.attention.head_count', nHead],
    ['llama.attention.head_count_kv', n('num_key_value_heads', nHead)],
    ['llama.attention.key_length', headDim],
    ['llama.attention.value_length', headDim],
    ['llama.rope.dimension_count', headDim],
    ['llama.rope.freq_base', n('position_embedding_base', n('rope_theta', 10000))],
    ['llama.attention.layer_norm_rms_epsilon', n('rms_norm_eps', 1e-6)],
    ['llama.vocab_size', n('vocab_size')],
    [ROPE_NEOX_KEY, true],
    [FUSED_GATE_UP_KEY, true],
  ]);
}

/** mlc-chat-config.json → metadata through the HF family (MLC's Qwen configs keep HF's key names). */
function hfConfig(t: HFType, mc: Config, where: string): HFConfig {
  return new HFConfig(where, { ...(t.config ? t.config(mc) : mc), architectures: [t.cls] }, t.family.defaults);
}

function hfMetadata(t: HFType, c: HFConfig, cfg: Config, where: string, name: string): Map<string, GGUFValue> {
  const { meta, extra } = t.family.metadata(c);
  if (extra.length) throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: the rope scaling of this ${t.cls} MLC folder needs generated tensors, which MLC folders do not support yet.`);
  const arch = t.family.arch;
  meta.set('general.name', name);
  meta.set(`${arch}.context_length`, num(cfg, 'context_window_size', where, c.num(['context_window_size', 'max_position_embeddings'], 2048)));
  meta.set(FUSED_GATE_UP_KEY, true);
  return meta;
}

/**
 * MLC parameter base name → GGUF name through the HF family's mapping; only the fusions are MLC's
 * own. Gemma's norm shift is not applied: mlc-llm's loader already stored w + 1.
 */
function familyNamer(t: HFType, c: HFConfig, where: string): (base: string) => string {
  return (mlcBase) => {
    const base = t.rename ? t.rename(mlcBase) : mlcBase;
    const m = /^(?:language_model\.)?model\.layers\.(\d+)\.(self_attn\.c_attn|mlp\.gate_up_proj)$/.exec(base);
    if (m) return `blk.${m[1]}.${m[2] === 'mlp.gate_up_proj' ? 'ffn_up' : 'attn_qkv'}.weight`;
    const target = t.family.tensor(`${base}.weight`, c);
    if (!target) throw new UnsupportedError('UNSUPPORTED_ARCH', `${where}: tensor '${mlcBase}' is not part of the ${t.family.arch} layout this engine reads from MLC folders.`);
    return target.name;
  };
}

const LAYER_NAMES: Record<string, string> = {
  'input_layernorm': 'attn_norm.weight',
  'post_attention_layernorm': 'ffn_norm.weight',
  'self_attn.qkv_proj': 'attn_qkv.weight',
  'self_attn.o_proj': 'attn_output.weight',
  'mlp.gate_up_proj': 'ffn_up.weight',
  'mlp.down_proj': 'ffn_down.weight',
};

/** MLC parameter base name (without .weight/.q_weight/.q_scale) → GGUF name. */
function llamaName(base: string): string {
  if (base === 'model.embed_tokens') return 'token_embd.weight';
  if (base === 'model.norm') return 'output_norm.weight';
  if (base === 'lm_head') return 'output.weight';
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(base);
  const part = m && LAYER_NAMES[m[2]];
  if (!part) throw new UnsupportedError('UNSUPPORTED_ARCH', `tensor '${base}' is not part of the llama layout this engine reads from MLC folders.`);
  return `blk.${m[1]}.${part}`;
}

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
  const hfType = HF_TYPES[modelType];
  const c = hfType && hfConfig(hfType, mc, where);
  const metadata = hfType ? hfMetadata(hfType, c!, cfg, where, name) : llamaMetadata(cfg, mc, where, name);
  const ggufName = hfType ? familyNamer(hfType, c!, dir.name) : llamaName;
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
    const { source, starts } = blockSource(`${dir.name} (MLC weights)`, segments, shards);
    const byName = new Map<string, GGUFTensorInfo>();
    infos.forEach((t, i) => byName.set(t.name, { ...t, offset: starts[i] }));
    const output = byName.get('output.weight');
    if (!byName.has('token_embd.weight') && output) byName.set('token_embd.weight', { ...output, name: 'token_embd.weight' });
    if (mc.tie_word_embeddings === true || c?.raw.tie_word_embeddings === true) byName.delete('output.weight');
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
