// Whole-model quantization as llama.cpp's llama-quantize does it: the same per-tensor type choices for
// the Q*_K_M/_S and IQ4 mixes, the same tensor order and metadata, so our output files are byte-identical to
// llama.cpp's for the same input. Streams row chunks through a sink; never holds a whole tensor.
import type { GGUFFile, GGUFTensorInfo, GGUFValue } from '../formats/gguf/reader.ts';
import { ValueType } from '../formats/gguf/constants.ts';
import { encodeGGUFHeader, type WriterEntry } from '../formats/gguf/writer.ts';
import { EngineError } from '../shared/errors.ts';
import { getTraits } from './traits.ts';
import { GGMLType, ggmlTypeName } from './types.ts';

/** llama.h `llama_ftype` ids of the mixes we can write. */
export const FILE_TYPES = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K_S: 11, Q3_K_M: 12,
  Q3_K_L: 13, Q4_K_S: 14, Q4_K_M: 15, Q5_K_S: 16, Q5_K_M: 17, Q6_K: 18, IQ4_NL: 25, IQ4_XS: 30, BF16: 32,
} as const;
export type FileTypeName = keyof typeof FILE_TYPES;

const DEFAULT_TYPE: Record<FileTypeName, GGMLType> = {
  F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16, Q4_0: GGMLType.Q4_0, Q4_1: GGMLType.Q4_1,
  Q5_0: GGMLType.Q5_0, Q5_1: GGMLType.Q5_1, Q8_0: GGMLType.Q8_0, Q2_K: GGMLType.Q2_K,
  Q3_K_S: GGMLType.Q3_K, Q3_K_M: GGMLType.Q3_K, Q3_K_L: GGMLType.Q3_K, Q4_K_S: GGMLType.Q4_K,
  Q4_K_M: GGMLType.Q4_K, Q5_K_S: GGMLType.Q5_K, Q5_K_M: GGMLType.Q5_K, Q6_K: GGMLType.Q6_K,
  IQ4_NL: GGMLType.IQ4_NL, IQ4_XS: GGMLType.IQ4_XS,
};

const QUANTIZED = new Set<number>([GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0,
  GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_NL, GGMLType.IQ4_XS]);

export function isFileTypeName(s: string): s is FileTypeName {
  return Object.hasOwn(FILE_TYPES, s);
}

export interface PlannedTensor {
  readonly src: GGUFTensorInfo;
  readonly type: number;
  readonly byteSize: number;
}

export interface QuantPlan {
  readonly fileType: number;
  readonly entries: WriterEntry[];
  /** output order (llama.cpp's: non-layer tensors, then by layer number, each group by name) */
  readonly tensors: PlannedTensor[];
  readonly alignment: number;
}

type Category = 'output' | 'token_embd' | 'attn_v' | 'attn_k' | 'attn_q' | 'attn_output' | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'other';

function category(name: string): Category {
  if (name === 'output.weight') return 'output';
  if (name === 'token_embd.weight') return 'token_embd';
  // fused qkv and MLA kv_b count as attn_v in llama.cpp
  if (name.includes('attn_qkv.weight') || name.includes('attn_kv_b.weight') || name.includes('attn_v.weight')) return 'attn_v';
  if (name.includes('attn_k.weight')) return 'attn_k';
  if (name.includes('attn_q.weight')) return 'attn_q';
  if (name.includes('attn_output.weight')) return 'attn_output';
  if (name.includes('ffn_up')) return 'ffn_up';
  if (name.includes('ffn_gate')) return 'ffn_gate';
  if (name.includes('ffn_down')) return 'ffn_down';
  return 'other';
}

/** llama.cpp quantizes only 2-D+ tensors named *weight, never norms, gates of experts or position tables. */
function allowsQuantization(t: GGUFTensorInfo): boolean {
  const n = t.name;
  const dims = t.shape.reduce((d, v, i) => (v > 1 ? i + 1 : d), 1);
  if (dims < 2 || !n.endsWith('weight') || n.includes('_norm.weight') || n.includes('ffn_gate_inp.weight')) return false;
  return n !== 'position_embd.weight' && n !== 'token_types.weight' && !n.includes('ssm_conv1d');
}

function layerOf(name: string): number {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}

/** llama-model-loader's weight order: by layer (non-layer tensors first), then by name (byte order). */
function llamaOrder(a: GGUFTensorInfo, b: GGUFTensorInfo): number {
  const la = layerOf(a.name), lb = layerOf(b.name);
  if (la !== lb) return la - lb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

interface MixState {
  ftype: FileTypeName;
  nLayers: number;
  nGqa: number;
  nExpert: number;
  is70B: boolean;
  tied: boolean;
  nAttnV: number;
  iAttnV: number;
  iFfnDown: number;
}

const isIQ4 = (f: FileTypeName) => f === 'IQ4_NL' || f === 'IQ4_XS';

const moreBits = (i: number, n: number) =>
  i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;

function attnVType(s: MixState, t: number): number {
  const f = s.ftype;
  let type = t;
  if (f === 'Q2_K') type = s.nGqa >= 4 ? GGMLType.Q4_K : GGMLType.Q3_K;
  else if (f === 'Q3_K_M') type = s.iAttnV < 2 ? GGMLType.Q5_K : GGMLType.Q4_K;
  else if (f === 'Q3_K_L') type = GGMLType.Q5_K;
  else if (isIQ4(f) && s.nGqa >= 4) type = GGMLType.Q5_K;
  else if ((f === 'Q4_K_M' || f === 'Q5_K_M') && moreBits(s.iAttnV, s.nAttnV)) type = GGMLType.Q6_K;
  else if (f === 'Q4_K_S' && s.iAttnV < 4) type = GGMLType.Q5_K;
  if (s.is70B && (type === GGMLType.Q3_K || type === GGMLType.Q4_K)) type = GGMLType.Q5_K;
  if (s.nExpert === 8) type = GGMLType.Q8_0;
  s.iAttnV++;
  return type;
}

function ffnDownType(s: MixState, t: number, name: string): number {
  const f = s.ftype;
  const i = s.nExpert > 1 ? layerOf(name) : s.iFfnDown;
  const n = s.nLayers;
  s.iFfnDown++;
  if (f === 'Q2_K') return GGMLType.Q3_K;
  if (f === 'Q3_K_M') return i < Math.floor(n / 16) ? GGMLType.Q5_K : GGMLType.Q4_K;
  if (f === 'Q3_K_L') return GGMLType.Q5_K;
  if (f === 'Q4_K_M') return moreBits(i, n) ? GGMLType.Q6_K : t;
  if (isIQ4(f) && i < Math.floor(n / 8)) return GGMLType.Q5_K; // llama.cpp: only without an imatrix, as here
  if (f === 'Q5_K_M' && moreBits(i, n)) return GGMLType.Q6_K;
  if (f === 'Q4_K_S' && i < Math.floor(n / 8)) return GGMLType.Q5_K;
  return t;
}

function attnOutputType(s: MixState, t: number): number {
  const f = s.ftype;
  if (s.nExpert === 8) {
    return ['Q2_K', 'Q3_K_S', 'Q3_K_M', 'Q4_K_S', 'Q4_K_M', 'IQ4_NL', 'IQ4_XS'].includes(f) ? GGMLType.Q5_K : t;
  }
  if (f === 'Q2_K') return GGMLType.Q3_K;
  if (f === 'Q3_K_M') return GGMLType.Q4_K;
  if (f === 'Q3_K_L') return GGMLType.Q5_K;
  return t;
}

/** llama_tensor_get_type for a quantized default type (llama.cpp's mix rules, non-imatrix). */
function mixType(s: MixState, t: GGUFTensorInfo, def: number): number {
  const cat = category(t.name);
  let type = def;
  if (cat === 'output' || (s.tied && cat === 'token_embd')) {
    if (t.shape[0] % getTraits(def, t.name).blockSize !== 0) type = GGMLType.Q8_0;
    else if (def !== GGMLType.Q8_0) type = GGMLType.Q6_K;
  } else if (cat === 'attn_v') type = attnVType(s, def);
  else if (cat === 'attn_k' && s.nExpert === 8) type = GGMLType.Q8_0;
  else if (cat === 'ffn_down') type = ffnDownType(s, def, t.name);
  else if (cat === 'attn_output') type = attnOutputType(s, def);
  return fallback(t, type);
}

/** Rows that do not split into whole blocks get a compatible type, as llama.cpp does. */
function fallback(t: GGUFTensorInfo, type: number): number {
  const cols = t.shape[0];
  if (cols % getTraits(type, t.name).blockSize === 0) return type;
  const alt: Partial<Record<number, number>> = {
    [GGMLType.Q2_K]: GGMLType.Q4_0, [GGMLType.Q3_K]: GGMLType.Q4_0, [GGMLType.Q4_K]: GGMLType.Q5_0,
    [GGMLType.Q5_K]: GGMLType.Q5_1, [GGMLType.Q6_K]: GGMLType.Q8_0, [GGMLType.IQ4_XS]: GGMLType.IQ4_NL,
  };
  const next = alt[type];
  if (next === undefined || cols % getTraits(next, t.name).blockSize !== 0) return GGMLType.F16;
  return next;
}

function metaInt(meta: Map<string, GGUFValue>, key: string, dflt: number): number {
  const v = meta.get(key);
  if (typeof v === 'number') return v;
  if (ArrayBuffer.isView(v) && 'length' in v && (v as Uint32Array).length) return Number((v as Uint32Array)[0]);
  return dflt;
}

function mixState(file: GGUFFile, ftype: FileTypeName): MixState {
  const meta = file.metadata;
  const arch = String(meta.get('general.architecture') ?? '');
  const nLayers = metaInt(meta, `${arch}.block_count`, 0);
  const nHead = metaInt(meta, `${arch}.attention.head_count`, 1);
  const nHeadKv = metaInt(meta, `${arch}.attention.head_count_kv`, nHead);
  return {
    ftype, nLayers, nGqa: nHeadKv > 0 ? Math.floor(nHead / nHeadKv) : 1,
    nExpert: metaInt(meta, `${arch}.expert_count`, 0),
    is70B: arch === 'llama' && nLayers === 80 && nHead !== nHeadKv,
    tied: !file.tensors.some((t) => t.name === 'output.weight'),
    nAttnV: file.tensors.filter((t) => category(t.name) === 'attn_v').length,
    iAttnV: 0, iFfnDown: 0,
  };
}

/** Metadata as llama-quantize writes it: split keys dropped, quantization_version and file_type last. */
function planEntries(file: GGUFFile, fileType: number): WriterEntry[] {
  const drop = new Set(['general.quantization_version', 'general.file_type', 'split.no', 'split.count', 'split.tensors.count']);
  const entries: WriterEntry[] = [];
  for (const [key, value] of file.metadata) {
    if (drop.has(key)) continue;
    entries.push({ key, value, type: file.metadataTypes.get(key)! });
  }
  entries.push({ key: 'general.quantization_version', value: 2, type: { type: ValueType.UINT32 } });
  entries.push({ key: 'general.file_type', value: fileType, type: { type: ValueType.UINT32 } });
  return entries;
}

/** Decides every tensor's output type and the output file's metadata for `ftype`. */
export function planQuantization(file: GGUFFile, ftype: FileTypeName): QuantPlan {
  const def = DEFAULT_TYPE[ftype];
  const s = mixState(file, ftype);
  const ordered = [...file.tensors].sort(llamaOrder);
  const tensors = ordered.map((src) => {
    getTraits(src.type, src.name);
    let type = src.type;
    if (allowsQuantization(src)) type = QUANTIZED.has(def) ? mixType(s, src, def) : def;
    if (type !== src.type && QUANTIZED.has(src.type)) {
      throw new EngineError('BAD_ARGUMENT',
        `tensor '${src.name}' is already quantized (${ggmlTypeName(src.type)}); quantize from an F32, F16 or BF16 model.`);
    }
    const tr = getTraits(type, src.name);
    return { src, type, byteSize: (src.nElements / tr.blockSize) * tr.typeSize };
  });
  return { fileType: FILE_TYPES[ftype], entries: planEntries(file, FILE_TYPES[ftype]), tensors, alignment: file.alignment };
}

export interface QuantizeSink {
  /** writes `bytes` at absolute file position `pos` */
  write(pos: number, bytes: Uint8Array): Promise<void>;
}

/** Bytes are source bytes (as read); `tensorBytes`/`tensorDoneBytes` are those of the tensor a chunk belonged to. */
export interface QuantizeProgress {
  tensor: string; index: number; count: number; doneBytes: number; totalBytes: number;
  tensorBytes: number; tensorDoneBytes: number;
}

const CHUNK_VALUES = 1 << 22; // 16 MiB of f32 per step

/** Converts `rows` rows of `src` (type srcType) into `dst` type bytes. */
export function convertRows(srcType: number, dstType: number, src: Uint8Array, rowLen: number, rows: number, name: string): Uint8Array {
  if (srcType === dstType) return src;
  const st = getTraits(srcType, name), dt = getTraits(dstType, name);
  const n = rowLen * rows;
  const f32 = new Float32Array(n);
  st.dequantize(src, 0, n / st.blockSize, f32, 0);
  if (!dt.quantize) throw new EngineError('BAD_ARGUMENT', `cannot write ${ggmlTypeName(dstType)} (tensor '${name}').`);
  const out = new Uint8Array((n / dt.blockSize) * dt.typeSize);
  dt.quantize(f32, 0, n / dt.blockSize, out, 0);
  return out;
}

/** convertRows, possibly elsewhere (node-quantize-pool.ts runs it on worker threads). */
export type RowConverter = (srcType: number, dstType: number, src: Uint8Array, rowLen: number, rows: number,
  name: string) => Uint8Array | Promise<Uint8Array>;

export interface QuantizeOptions {
  convert?: RowConverter;
  /** chunks read and converted at once (default 1; give a pool about twice its size) */
  inFlight?: number;
  /** reads rows [row0, row0 + rows) of a planned source tensor in its type (default: its bytes in
   *  `file.sources`); lets a caller reorder or retype rows on the way (the HF folder converter) */
  readRows?: (t: GGUFTensorInfo, row0: number, rows: number) => Promise<Uint8Array>;
  /** checked before each chunk: an aborted signal stops the run with an ABORTED error */
  signal?: AbortSignal;
}

/** Writes the quantized model through `sink`: header first, then each tensor in row chunks. Chunks
 *  land at fixed offsets, so converting several at once leaves the file unchanged. */
export async function quantizeModel(file: GGUFFile, plan: QuantPlan, sink: QuantizeSink,
  onProgress?: (p: QuantizeProgress) => void, opts: QuantizeOptions = {}): Promise<number> {
  const { header, relOffsets, dataOffset } = encodeGGUFHeader(plan.entries,
    plan.tensors.map((t) => ({ name: t.src.name, type: t.type, shape: t.src.shape, byteSize: t.byteSize })), plan.alignment);
  await sink.write(0, header);
  const convert = opts.convert ?? convertRows;
  const totalBytes = plan.tensors.reduce((a, t) => a + t.src.byteSize, 0);
  let doneBytes = 0;
  const pending: Promise<void>[] = [];
  const readRows = opts.readRows ?? ((t: GGUFTensorInfo, r0: number, rows: number) => {
    const rowBytes = t.byteSize / (t.nElements / t.shape[0]);
    return file.sources[t.fileIndex].read(t.offset + r0 * rowBytes, rows * rowBytes);
  });
  try {
    for (let i = 0; i < plan.tensors.length; i++) {
      const { src, type, byteSize } = plan.tensors[i];
      const rowLen = src.shape[0], nRows = src.nElements / rowLen;
      const srcRow = src.byteSize / nRows, dstRow = byteSize / nRows;
      const step = Math.max(1, Math.floor(CHUNK_VALUES / rowLen));
      let tensorDoneBytes = 0;
      for (let r = 0; r < nRows; r += step) {
        if (opts.signal?.aborted) throw new EngineError('ABORTED', `quantization stopped before tensor '${src.name}' was written.`);
        const rows = Math.min(step, nRows - r);
        const chunk = (async () => {
          const bytes = await readRows(src, r, rows);
          await sink.write(dataOffset + relOffsets[i] + r * dstRow, await convert(src.type, type, bytes, rowLen, rows, src.name));
          doneBytes += rows * srcRow;
          tensorDoneBytes += rows * srcRow;
          onProgress?.({ tensor: src.name, index: i, count: plan.tensors.length, doneBytes, totalBytes, tensorBytes: src.byteSize, tensorDoneBytes });
        })();
        chunk.catch(() => {}); // awaited below, in order; this only stops an early failure counting as unhandled
        pending.push(chunk);
        if (pending.length >= (opts.inFlight ?? 1)) await pending.shift();
      }
      const end = dataOffset + relOffsets[i] + byteSize;
      const pad = Math.ceil(byteSize / plan.alignment) * plan.alignment - byteSize;
      if (pad) await sink.write(end, new Uint8Array(pad));
    }
    for (const chunk of pending) await chunk;
  } catch (e) {
    await Promise.allSettled(pending); // no chunk may still write once the caller sees the failure
    throw e;
  }
  const last = plan.tensors.length - 1;
  return last < 0 ? dataOffset : dataOffset + relOffsets[last] + Math.ceil(plan.tensors[last].byteSize / plan.alignment) * plan.alignment;
}
