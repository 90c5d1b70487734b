// A Hugging Face model folder (config.json, safetensors, tokenizer.json) presented as the GGUFFile
// the loader already reads: the metadata llama.cpp's convert_hf_to_gguf.py writes from config.json
// for the family (families/*.ts), and tensor infos under GGUF names, in ggml `ne` order, pointing
// straight into the safetensors files (no copy, no conversion). Values the converter changes
// (Gemma's norm + 1) or generates (llama3 rope_freqs, longrope factors) come from small computed
// sources (computed.ts). Where convert permutes llama q/k rows for adjacent-pair rope we leave the
// rows as they are and mark the model `edge.rope.neox` so the decoder rotates halves instead — the
// same attention; everything else holds the values llama.cpp's GGUF would hold.
import { tensorAccess, type GGUFFile, type GGUFTensorInfo } from '../gguf/reader.ts';
import type { ByteSource } from '../byte-source.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';
import { openSafetensorsSet, readJsonFile, readTextFile, type FolderFiles, type SafetensorsSet, type ShardTensor } from '../safetensors/set.ts';
import { GGMLType } from '../../quant/types.ts';
import { computedSource, shiftedSource } from './computed.ts';
import { HFConfig, type Config } from './config.ts';
import type { HFFamily, Meta } from './family.ts';
import { gemma2Family, gemma3Family } from './families/gemma.ts';
import { llamaFamily } from './families/llama.ts';
import { phi3Family } from './families/phi3.ts';
import { qwen2Family, qwen3Family } from './families/qwen.ts';
import { smollm3Family } from './families/smollm3.ts';
import { generationConfig } from './generation.ts';
import { checkShape } from './shapes.ts';

/** Metadata key (not one llama.cpp writes) that makes a llama-family model use rotate-half rope. */
export const ROPE_NEOX_KEY = 'edge.rope.neox';

/** What a folder brings besides the weights: the tokenizer as HF wrote it (built by the tokenizer module). */
export interface HFTokenizerFiles {
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
  /** the embedding's rows: the tokenizer is padded (or its added tokens cut) to these, as the converter does */
  readonly vocabSize?: number;
  /** generation_config.json's eos_token_id(s): they end generation too */
  readonly eogIds?: readonly number[];
}

export interface HFModelFile extends GGUFFile {
  readonly hfTokenizer: HFTokenizerFiles;
}

export const HF_FAMILIES: readonly HFFamily[] = [llamaFamily, qwen2Family, qwen3Family, gemma2Family, gemma3Family, phi3Family, smollm3Family];
const SUPPORTED_CLASSES = HF_FAMILIES.flatMap((f) => f.classes);

function familyOf(cfg: Config, folder: string): HFFamily {
  const a = cfg.architectures;
  const arch = String(Array.isArray(a) ? a[0] : a);
  const family = HF_FAMILIES.find((f) => f.classes.includes(arch));
  if (!family) throw new UnsupportedError('UNSUPPORTED_ARCH', `${folder}: Hugging Face architecture '${arch}' cannot be read from a folder yet (supported: ${SUPPORTED_CLASSES.join(', ')}).`);
  return family;
}

function tensorInfo(name: string, t: ShardTensor): GGUFTensorInfo {
  const nElements = t.shape.reduce((a, b) => a * b, 1);
  // ggml's ne is the row-major shape reversed: ne[0] is the row length
  const shape = t.shape.length ? [...t.shape].reverse() : [1];
  return { name, type: t.type, shape, nElements, offset: t.offset, byteSize: t.byteSize, fileIndex: t.fileIndex };
}

/** The first `rows` rows of a matrix: a shorter view of the same bytes. */
function firstRows(t: GGUFTensorInfo, rows: number): GGUFTensorInfo {
  if (rows >= t.shape[1]) return t;
  const rowBytes = t.byteSize / t.shape[1];
  return { ...t, shape: [t.shape[0], rows, ...t.shape.slice(2)], nElements: t.shape[0] * rows, byteSize: rowBytes * rows };
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

/** HF tensors → GGUF tensor infos (and the computed sources they need, appended to `srcs`). */
function mapTensors(dir: FolderFiles, set: SafetensorsSet, family: HFFamily, c: HFConfig, meta: Meta, srcs: ByteSource[],
  shards: readonly string[], origin: Map<string, { hf: string; shard: string }>): Map<string, GGUFTensorInfo> {
  const byName = new Map<string, GGUFTensorInfo>();
  for (const [hf, t] of set.tensors) {
    const target = family.tensor(hf, c);
    if (target === null) continue;
    if (target === undefined) {
      throw new UnsupportedError('UNSUPPORTED_ARCH', `${dir.name}/${shards[t.fileIndex]}: tensor '${hf}' is not part of the ${c.architecture} layout this engine reads.`);
    }
    let info = tensorInfo(target.name, t);
    if (target.shift) {
      srcs.push(shiftedSource(set.sources[t.fileIndex], t, target.shift));
      info = { ...info, type: GGMLType.F32, offset: 0, byteSize: info.nElements * 4, fileIndex: srcs.length - 1 };
    }
    if (byName.has(info.name)) throw new EngineError('SAFETENSORS_CORRUPT', `${dir.name}: two tensors map to '${info.name}' (one is '${hf}').`);
    byName.set(info.name, info);
    origin.set(info.name, { hf, shard: shards[t.fileIndex] });
  }
  return byName;
}

/** Opens an HF folder of a supported family as a GGUFFile (its files stay open until close()). */
export async function openHFFolder(dir: FolderFiles): Promise<HFModelFile> {
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!dir.names.includes(f)) throw new EngineError('IO', `${dir.name} has no ${f}; it is not a Hugging Face model folder.`);
  }
  const file = await readJsonFile(dir, 'config.json') as Config;
  if (!file || typeof file !== 'object') throw new EngineError('BAD_ARGUMENT', `${dir.name}/config.json is not a JSON object.`);
  const family = familyOf(file, dir.name);
  const c = new HFConfig(dir.name, file, family.defaults);
  const { meta, extra } = family.metadata(c);
  meta.set('general.name', dir.name.split(/[\\/]/).filter(Boolean).at(-1) ?? family.arch);
  if (family.permutesQK) meta.set(ROPE_NEOX_KEY, true);
  const tokenizerJson = await readJsonFile(dir, 'tokenizer.json');
  const tokenizerConfig = (dir.names.includes('tokenizer_config.json') ? await readJsonFile(dir, 'tokenizer_config.json') : {}) as Config;
  // newer transformers save the template beside tokenizer_config.json
  const tpl = dir.names.includes('chat_template.jinja') ? await readTextFile(dir, 'chat_template.jinja') : chatTemplate(tokenizerConfig);
  if (tpl !== undefined) meta.set('tokenizer.chat_template', tpl);
  const gen = dir.names.includes('generation_config.json') ? generationConfig(await readJsonFile(dir, 'generation_config.json'), meta) : { eogIds: [] };
  const keepRows = family.embeddingRows?.(tokenizerJson);
  const vocabKey = `${family.arch}.vocab_size`;
  if (keepRows !== undefined && keepRows < (meta.get(vocabKey) as number)) meta.set(vocabKey, keepRows);
  const set = await openSafetensorsSet(dir);
  const srcs: ByteSource[] = [...set.sources];
  let byName: Map<string, GGUFTensorInfo>;
  try {
    const shards = set.sources.map((s) => s.name);
    const origin = new Map<string, { hf: string; shard: string }>();
    byName = mapTensors(dir, set, family, c, meta, srcs, shards, origin);
    const emb = byName.get('token_embd.weight');
    if (emb && keepRows !== undefined) byName.set('token_embd.weight', firstRows(emb, keepRows));
    // tied embeddings: one matrix, stored under either name (TinyStories keeps only lm_head)
    const output = byName.get('output.weight');
    if (!byName.has('token_embd.weight') && output) {
      byName.set('token_embd.weight', { ...output, name: 'token_embd.weight' });
      origin.set('token_embd.weight', origin.get('output.weight')!);
    }
    if (c.raw.tie_word_embeddings === true) byName.delete('output.weight');
    for (const x of extra) {
      srcs.push(computedSource(`${dir.name}:${x.name}`, x.values.length, async () => x.values));
      byName.set(x.name, { name: x.name, type: GGMLType.F32, shape: [x.values.length], nElements: x.values.length, offset: 0, byteSize: x.values.length * 4, fileIndex: srcs.length - 1 });
    }
    for (const t of byName.values()) {
      const from = origin.get(t.name) ?? { hf: t.name, shard: 'the converter' };
      checkShape(dir.name, from.shard, from.hf, t.name, t.shape, meta, family.arch, family.fusedGateUp === true);
    }
  } catch (e) {
    await Promise.all(set.sources.map((s) => s.close?.()));
    throw e;
  }
  const vocabSize = meta.get(vocabKey) as number;
  return {
    version: 3,
    metadata: meta,
    metadataTypes: new Map(),
    tensors: [...byName.values()],
    alignment: 1,
    sources: srcs,
    hfTokenizer: { tokenizerJson, tokenizerConfig, vocabSize, eogIds: gen.eogIds },
    ...tensorAccess(srcs, byName, (m) => new EngineError('BAD_ARGUMENT', m)),
  };
}

export function isHFModelFile(f: GGUFFile): f is HFModelFile {
  return 'hfTokenizer' in f;
}
