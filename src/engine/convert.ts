// Hugging Face folder → GGUF file, as llama.cpp's convert_hf_to_gguf.py followed by llama-quantize
// would make it: llama metadata with GGUF value types, convert's tokenizer metadata, q/k rows back in
// llama.cpp's order (llama, smollm3), and llama-quantize's tensor order and type mix. Streams row chunks through a sink
// (never a whole tensor in memory); no Node APIs, so a browser Web Worker can run it.
import { ValueType } from '../formats/gguf/constants.ts';
import type { GGUFFile, GGUFValue } from '../formats/gguf/reader.ts';
import type { GGUFValueTypeInfo } from '../formats/gguf/header-parser.ts';
import type { WriterEntry } from '../formats/gguf/writer.ts';
import { ROPE_NEOX_KEY, openHFFolder, type HFModelFile } from '../formats/hf/folder.ts';
import { hfVocabEntries } from '../formats/hf/gguf-vocab.ts';
import { readJsonFile, type FolderFiles } from '../formats/safetensors/set.ts';
import { planQuantization, quantizeModel, type FileTypeName, type QuantizeProgress, type QuantizeSink, type RowConverter } from '../quant/quantize-model.ts';
import { GGMLType, ggmlTypeName } from '../quant/types.ts';
import { EngineError } from '../shared/errors.ts';
import { convertInput } from './convert-input.ts';

/** A llama-quantize mix, or 'keep': the weights stay in their stored float type (F32/F16/BF16). */
export type ConvertType = FileTypeName | 'keep';
export type ConvertProgress = QuantizeProgress;
export type { QuantizeSink, RowConverter };

export interface ConvertOptions {
  /** where row chunks are converted (default: on this thread; Node passes its worker pool) */
  convert?: RowConverter;
  /** chunks read and converted at once (default 1) */
  inFlight?: number;
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
}

export interface ConvertResult { bytes: number; types: Record<string, number> }

const FLOAT_KEYS = /\.(rope\.freq_base|rope\.freq_base_swa|layer_norm_rms_epsilon|layer_norm_epsilon|rope\.scaling\.factor|rope\.scaling\.attn_factor|attn_logit_softcapping|final_logit_softcapping)$/;

/** gguf-py's value type for each key convert writes from config.json (counts u32, floats f32). */
function valueType(key: string, v: GGUFValue): GGUFValueTypeInfo {
  if (typeof v === 'string') return { type: ValueType.STRING };
  if (typeof v === 'boolean') return { type: ValueType.BOOL };
  if (typeof v === 'number') return { type: FLOAT_KEYS.test(key) || !Number.isInteger(v) ? ValueType.FLOAT32 : ValueType.UINT32 };
  throw new EngineError('BAD_ARGUMENT', `metadata '${key}' has no GGUF type convert would give it.`);
}

/** generation_config.json's sampler defaults, as gguf-py's Metadata writes them (general.sampling.*). */
function samplingEntries(gen: Record<string, unknown>): WriterEntry[] {
  const out: WriterEntry[] = [];
  const add = (key: string, v: unknown, type: number) => {
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ key: `general.sampling.${key}`, value: v, type: { type } });
  };
  add('top_k', gen.top_k, ValueType.INT32);
  add('top_p', gen.top_p, ValueType.FLOAT32);
  add('min_p', gen.min_p, ValueType.FLOAT32);
  add('temp', gen.temperature, ValueType.FLOAT32);
  add('penalty_repeat', gen.repetition_penalty, ValueType.FLOAT32);
  return out;
}

async function optionalJson(dir: FolderFiles, name: string): Promise<Record<string, unknown>> {
  if (!dir.names.includes(name)) return {};
  const v = await readJsonFile(dir, name);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Families whose convert class writes {arch}.vocab_size (LlamaModel and its subclasses). */
const WRITES_VOCAB_SIZE = new Set(['llama', 'smollm3']);

/** Keys the folder reader sets for the engine that convert's class for the family does not write. */
function notWritten(arch: string, key: string, value: GGUFValue): boolean {
  if (key === `${arch}.vocab_size`) return !WRITES_VOCAB_SIZE.has(arch);
  // Gemma2Model writes no rope base: llama.cpp's default 10000 is the only one it converts right
  return arch === 'gemma2' && key === 'gemma2.rope.freq_base' && value === 10000;
}

/** All metadata of the intermediate file but general.file_type / quantization_version (the plan adds them). */
async function metadataEntries(dir: FolderFiles, file: HFModelFile): Promise<WriterEntry[]> {
  const arch = String(file.metadata.get('general.architecture'));
  const entries: WriterEntry[] = [];
  for (const [key, value] of file.metadata) {
    if (key === ROPE_NEOX_KEY || key.startsWith('tokenizer.')) continue; // rows are permuted back instead
    if (notWritten(arch, key, value)) continue;
    if (key === 'general.architecture') { entries.push({ key, value, type: valueType(key, value) }, { key: 'general.type', value: 'model', type: { type: ValueType.STRING } }); continue; }
    entries.push({ key, value, type: valueType(key, value) });
  }
  entries.push(...samplingEntries(await optionalJson(dir, 'generation_config.json')));
  const tpl = file.metadata.get('tokenizer.chat_template');
  entries.push(...hfVocabEntries({
    folder: dir.name, tokenizerJson: file.hfTokenizer.tokenizerJson, tokenizerConfig: file.hfTokenizer.tokenizerConfig,
    config: await readJsonFile(dir, 'config.json'), chatTemplate: typeof tpl === 'string' ? tpl : undefined,
    arch, vocabSize: file.hfTokenizer.vocabSize,
  }));
  return entries;
}

/** 'keep' is the F32/F16/BF16 file type of the folder's matrices (the first one's when they differ). */
function keepType(file: GGUFFile): FileTypeName {
  const t = file.tensors.find((x) => x.shape.filter((d) => d > 1).length >= 2)?.type;
  return t === GGMLType.F16 ? 'F16' : t === GGMLType.BF16 ? 'BF16' : 'F32';
}

/** Writes the GGUF of HF folder `dir` through `sink` (header at 0, then every tensor at its offset). */
export async function convertFolder(dir: FolderFiles, type: ConvertType, sink: QuantizeSink, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const file = await openHFFolder(dir);
  try {
    const input = convertInput(file, dir.name);
    const entries = await metadataEntries(dir, file);
    const intermediate: GGUFFile = {
      ...file,
      metadata: new Map(entries.map((e) => [e.key, e.value])),
      metadataTypes: new Map(entries.map((e) => [e.key, e.type])),
      tensors: input.tensors,
      alignment: 32,
    };
    const plan = planQuantization(intermediate, type === 'keep' ? keepType(file) : type);
    if (opts.signal?.aborted) throw new EngineError('ABORTED', `converting ${dir.name} was stopped.`);
    const bytes = await quantizeModel(intermediate, plan, sink, opts.onProgress, {
      convert: opts.convert, inFlight: opts.inFlight, readRows: input.readRows, signal: opts.signal,
    });
    const types: Record<string, number> = {};
    for (const t of plan.tensors) types[ggmlTypeName(t.type)] = (types[ggmlTypeName(t.type)] ?? 0) + 1;
    return { bytes, types };
  } finally {
    await file.close();
  }
}
