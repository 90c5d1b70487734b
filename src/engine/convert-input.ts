// The GGUF that convert_hf_to_gguf.py would write of an HF folder, as a plan input for quantizeModel:
// tensor infos in convert's types (1-D tensors and norms F32, the rest in their stored float type),
// checked against config.json before anything is written, and a row reader that undoes HF's
// rotate-half q/k row order (LlamaModel.permute) one head at a time while streaming.
import type { GGUFTensorInfo } from '../formats/gguf/reader.ts';
import { ROPE_NEOX_KEY, type HFModelFile } from '../formats/hf/folder.ts';
import { getTraits } from '../quant/traits.ts';
import { GGMLType } from '../quant/types.ts';
import { EngineError } from '../shared/errors.ts';

/** Only these survive into a GGUF as they are; anything else was refused by the safetensors reader. */
const FLOATS = new Set<number>([GGMLType.F32, GGMLType.F16, GGMLType.BF16]);

export interface ConvertInput {
  /** tensors in the types the intermediate (convert_hf_to_gguf) file would have */
  readonly tensors: GGUFTensorInfo[];
  readonly readRows: (t: GGUFTensorInfo, row0: number, rows: number) => Promise<Uint8Array>;
}

const num = (file: HFModelFile, key: string): number => Number(file.metadata.get(`${String(file.metadata.get('general.architecture'))}.${key}`));

/** The shape (ggml ne order) config.json implies for a GGUF llama tensor, or null for names it does not fix. */
function expectedShape(file: HFModelFile, name: string): number[] | null {
  // the other families' shapes are checked by the folder reader alone (formats/hf/shapes.ts)
  if (file.metadata.get('general.architecture') !== 'llama') return null;
  const dim = num(file, 'embedding_length'), ff = num(file, 'feed_forward_length'), vocab = num(file, 'vocab_size');
  const hd = num(file, 'attention.key_length');
  const q = num(file, 'attention.head_count') * hd, kv = num(file, 'attention.head_count_kv') * hd;
  if (name === 'token_embd.weight' || name === 'output.weight') return [dim, vocab];
  if (name === 'output_norm.weight') return [dim];
  const part = /^blk\.\d+\.(.+)$/.exec(name)?.[1];
  const shapes: Record<string, number[]> = {
    'attn_norm.weight': [dim], 'ffn_norm.weight': [dim], 'attn_q.weight': [dim, q], 'attn_k.weight': [dim, kv],
    'attn_v.weight': [dim, kv], 'attn_output.weight': [q, dim], 'ffn_gate.weight': [dim, ff], 'ffn_up.weight': [dim, ff],
    'ffn_down.weight': [ff, dim],
  };
  return part ? shapes[part] ?? null : null;
}

const LLAMA_PARTS = ['attn_norm', 'ffn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];
const GEMMA_PARTS = [...LLAMA_PARTS, 'post_attention_norm', 'post_ffw_norm'];
/** per layer, the tensors llama.cpp's loader requires of each family */
const LAYER_PARTS: Record<string, string[]> = {
  llama: LLAMA_PARTS, smollm3: LLAMA_PARTS, qwen2: LLAMA_PARTS, qwen3: [...LLAMA_PARTS, 'attn_q_norm', 'attn_k_norm'],
  gemma2: GEMMA_PARTS, gemma3: [...GEMMA_PARTS, 'attn_q_norm', 'attn_k_norm'],
  phi3: ['attn_norm', 'ffn_norm', 'attn_qkv', 'attn_output', 'ffn_up', 'ffn_down'],
};

/** Every tensor llama.cpp needs, each with config.json's shape and a float dtype; names file and tensor. */
function check(file: HFModelFile, folder: string): void {
  const where = (t: GGUFTensorInfo) => `${folder}/${file.sources[t.fileIndex]?.name.split(/[\\/]/).at(-1) ?? '?'}: tensor '${t.name}'`;
  const nLayers = num(file, 'block_count');
  const names = new Set(file.tensors.map((t) => t.name));
  const need = ['token_embd.weight', 'output_norm.weight'];
  const parts = LAYER_PARTS[String(file.metadata.get('general.architecture'))] ?? LLAMA_PARTS;
  for (let l = 0; l < nLayers; l++) for (const p of parts) need.push(`blk.${l}.${p}.weight`);
  for (const n of need) {
    if (!names.has(n)) throw new EngineError('MISSING_TENSOR', `${folder}: tensor '${n}' (layer count ${nLayers} from config.json) is in none of the safetensors files.`);
  }
  for (const t of file.tensors) {
    const layer = /^blk\.(\d+)\./.exec(t.name);
    if (layer && Number(layer[1]) >= nLayers) throw new EngineError('BAD_SHAPE', `${where(t)} is beyond config.json's num_hidden_layers (${nLayers}).`);
    const want = expectedShape(file, t.name);
    if (want && (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i]))) {
      const hf = (s: readonly number[]) => `[${[...s].reverse().join(', ')}]`;
      throw new EngineError('BAD_SHAPE', `${where(t)} has shape ${hf(t.shape)} but config.json implies ${hf(want)}.`);
    }
    if (!FLOATS.has(t.type)) throw new EngineError('UNSUPPORTED_TYPE', `${where(t)} is not F32, F16 or BF16; it cannot be converted.`);
  }
}

/** ggml types convert_hf_to_gguf.py keeps: norms and 1-D tensors as F32, the rest as stored. */
function convertType(t: GGUFTensorInfo): number {
  const dims = t.shape.filter((d, i) => i === 0 || d > 1).length;
  return dims <= 1 || t.name.endsWith('_norm.weight') ? GGMLType.F32 : t.type;
}

/** q/k of a neox-flagged llama folder: output row 2i+j of a head is stored row j·hd/2 + i (LlamaModel.permute). */
function permutedHeadDim(file: HFModelFile, name: string): number {
  if (file.metadata.get(ROPE_NEOX_KEY) !== true || !/\.attn_[qk]\.weight$/.test(name)) return 0;
  return num(file, 'attention.key_length');
}

export function convertInput(file: HFModelFile, folder: string): ConvertInput {
  check(file, folder);
  const stored = new Map(file.tensors.map((t) => [t.name, t]));
  const tensors = file.tensors.map((t) => {
    const type = convertType(t);
    const tr = getTraits(type, t.name);
    return { ...t, type, byteSize: (t.nElements / tr.blockSize) * tr.typeSize };
  });
  async function readRows(t: GGUFTensorInfo, row0: number, rows: number): Promise<Uint8Array> {
    const s = stored.get(t.name)!;
    const nRows = s.nElements / s.shape[0];
    const rowBytes = s.byteSize / nRows;
    const src = file.sources[s.fileIndex];
    const hd = permutedHeadDim(file, t.name);
    let bytes: Uint8Array;
    if (hd) {
      // whole heads: the chunk's rows come from the heads they lie in
      const first = Math.floor(row0 / hd) * hd, end = Math.ceil((row0 + rows) / hd) * hd;
      const span = await src.read(s.offset + first * rowBytes, (end - first) * rowBytes);
      bytes = new Uint8Array(rows * rowBytes);
      for (let r = 0; r < rows; r++) {
        const abs = row0 + r, head = Math.floor(abs / hd) * hd, w = abs - head;
        const from = head + (w % 2) * (hd / 2) + (w >> 1) - first;
        bytes.set(span.subarray(from * rowBytes, (from + 1) * rowBytes), r * rowBytes);
      }
    } else {
      bytes = await src.read(s.offset + row0 * rowBytes, rows * rowBytes);
    }
    if (t.type === s.type) return bytes;
    // a 16-bit norm becomes F32, as convert writes it (exact)
    const n = rows * s.shape[0];
    const f32 = new Float32Array(n);
    const st = getTraits(s.type, s.name);
    st.dequantize(bytes, 0, n / st.blockSize, f32, 0);
    return new Uint8Array(f32.buffer);
  }
  return { tensors, readRows };
}
