// A Hugging Face model folder (config.json, safetensors, tokenizer.json) presented as the GGUFFile
// the loader already reads: the llama.* metadata llama.cpp's convert_hf_to_gguf.py writes from
// config.json, and tensor infos under GGUF names, in ggml `ne` order, pointing straight into the
// safetensors files (no copy, no conversion). HF keeps q/k rows in rotate-half order, where
// convert_hf_to_gguf.py permutes them for llama's adjacent-pair rope; we leave the rows as they are
// and mark the model `edge.rope.neox` so the decoder rotates halves instead — the same attention.
import { tensorAccess, type GGUFFile, type GGUFTensorInfo, type GGUFValue } from '../gguf/reader.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';
import { openSafetensorsSet, readJsonFile, readTextFile, type FolderFiles, type ShardTensor } from '../safetensors/set.ts';

/** Metadata key (not one llama.cpp writes) that makes a llama-family model use rotate-half rope. */
export const ROPE_NEOX_KEY = 'edge.rope.neox';

/** What a folder brings besides the weights: the tokenizer as HF wrote it (built by the tokenizer module). */
export interface HFTokenizerFiles {
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
}

export interface HFModelFile extends GGUFFile {
  readonly hfTokenizer: HFTokenizerFiles;
}

const LLAMA_CLASSES = ['LlamaForCausalLM', 'MistralForCausalLM'];

type Config = Record<string, unknown>;

function configNumber(cfg: Config, key: string, folder: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw new EngineError('BAD_SHAPE', `${folder}/config.json: '${key}' is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}.`);
}

/** config.json → the llama.* keys convert_hf_to_gguf.py writes for LlamaModel. */
function llamaMetadata(cfg: Config, folder: string): Map<string, GGUFValue> {
  const n = (k: string, fb?: number) => configNumber(cfg, k, folder, fb);
  const arch = (Array.isArray(cfg.architectures) ? cfg.architectures : [])[0];
  if (!LLAMA_CLASSES.includes(String(arch))) {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}: Hugging Face architecture '${String(arch)}' cannot be read from a folder yet (supported: ${LLAMA_CLASSES.join(', ')}).`);
  }
  if (cfg.hidden_act !== undefined && cfg.hidden_act !== 'silu') {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}: hidden_act '${String(cfg.hidden_act)}' is not supported for ${String(arch)} (only silu).`);
  }
  if (cfg.attention_bias === true || cfg.mlp_bias === true) {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}: ${String(arch)} with attention or MLP biases is not supported.`);
  }
  // transformers 5 moved rope settings into rope_parameters; 4 had rope_theta and rope_scaling
  const rp = (cfg.rope_parameters ?? cfg.rope_scaling ?? {}) as Config;
  const ropeType = String(rp.rope_type ?? rp.type ?? 'default');
  const nHead = n('num_attention_heads');
  const dim = n('hidden_size');
  const headDim = n('head_dim', dim / nHead);
  const m = new Map<string, GGUFValue>([
    ['general.architecture', 'llama'],
    ['general.name', folder.split(/[\\/]/).filter(Boolean).at(-1) ?? 'llama'],
    ['llama.context_length', n('max_position_embeddings', 2048)],
    ['llama.embedding_length', dim],
    ['llama.feed_forward_length', n('intermediate_size')],
    ['llama.block_count', n('num_hidden_layers')],
    ['llama.attention.head_count', nHead],
    ['llama.attention.head_count_kv', n('num_key_value_heads', nHead)],
    ['llama.attention.key_length', headDim],
    ['llama.attention.value_length', headDim],
    ['llama.rope.dimension_count', headDim],
    ['llama.rope.freq_base', configNumber(rp, 'rope_theta', folder, n('rope_theta', 10000))],
    ['llama.attention.layer_norm_rms_epsilon', n('rms_norm_eps', 1e-6)],
    ['llama.vocab_size', n('vocab_size')],
    [ROPE_NEOX_KEY, true],
  ]);
  if (ropeType === 'linear') {
    m.set('llama.rope.scaling.type', 'linear');
    m.set('llama.rope.scaling.factor', configNumber(rp, 'factor', folder));
  } else if (ropeType !== 'default') {
    // llama3/yarn/… need convert_hf_to_gguf.py's generated tensors or keys; not done from a folder yet
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}: rope type '${ropeType}' cannot be read from a Hugging Face folder yet (supported: default, linear).`);
  }
  return m;
}

const LAYER_NAMES: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

/** HF tensor name → GGUF name (llama), or null for tensors llama.cpp drops (rotary inv_freq). */
function ggufName(hf: string): string | null {
  if (hf === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (hf === 'model.norm.weight') return 'output_norm.weight';
  if (hf === 'lm_head.weight') return 'output.weight';
  if (hf.endsWith('.rotary_emb.inv_freq')) return null;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
  const part = m && LAYER_NAMES[m[2]];
  if (!part) throw new UnsupportedError('UNSUPPORTED_ARCH', `tensor '${hf}' is not part of the llama layout this engine reads.`);
  return `blk.${m[1]}.${part}`;
}

function tensorInfo(name: string, t: ShardTensor): GGUFTensorInfo {
  const nElements = t.shape.reduce((a, b) => a * b, 1);
  // ggml's ne is the row-major shape reversed: ne[0] is the row length
  const shape = t.shape.length ? [...t.shape].reverse() : [1];
  return { name, type: t.type, shape, nElements, offset: t.offset, byteSize: t.byteSize, fileIndex: t.fileIndex };
}

function chatTemplate(cfg: Config): string | undefined {
  const t = cfg.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const d = t.find((x) => x && (x as Config).name === 'default') as Config | undefined;
    if (typeof d?.template === 'string') return d.template;
  }
  return undefined;
}

/** Opens an HF llama-family folder as a GGUFFile (its files stay open until close()). */
export async function openHFFolder(dir: FolderFiles): Promise<HFModelFile> {
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!dir.names.includes(f)) throw new EngineError('IO', `${dir.name} has no ${f}; it is not a Hugging Face model folder.`);
  }
  const cfg = await readJsonFile(dir, 'config.json') as Config;
  const metadata = llamaMetadata(cfg, dir.name);
  const tokenizerJson = await readJsonFile(dir, 'tokenizer.json');
  const tokenizerConfig = (dir.names.includes('tokenizer_config.json') ? await readJsonFile(dir, 'tokenizer_config.json') : {}) as Config;
  // newer transformers save the template beside tokenizer_config.json
  const tpl = dir.names.includes('chat_template.jinja') ? await readTextFile(dir, 'chat_template.jinja') : chatTemplate(tokenizerConfig);
  if (tpl !== undefined) metadata.set('tokenizer.chat_template', tpl);
  const set = await openSafetensorsSet(dir);
  const srcs = set.sources;
  const byName = new Map<string, GGUFTensorInfo>();
  try {
    for (const [hf, t] of set.tensors) {
      const name = ggufName(hf);
      if (name) byName.set(name, tensorInfo(name, t));
    }
    // tied embeddings: one matrix, stored under either name (TinyStories keeps only lm_head)
    const output = byName.get('output.weight');
    if (!byName.has('token_embd.weight') && output) byName.set('token_embd.weight', { ...output, name: 'token_embd.weight' });
    if (cfg.tie_word_embeddings === true) byName.delete('output.weight');
  } catch (e) {
    await Promise.all(srcs.map((s) => s.close?.()));
    throw e;
  }
  const tensors = [...byName.values()];
  return {
    version: 3,
    metadata,
    metadataTypes: new Map(),
    tensors,
    alignment: 1,
    sources: srcs,
    hfTokenizer: { tokenizerJson, tokenizerConfig },
    ...tensorAccess(srcs, byName, (m) => new EngineError('BAD_ARGUMENT', m)),
  };
}

export function isHFModelFile(f: GGUFFile): f is HFModelFile {
  return 'hfTokenizer' in f;
}
