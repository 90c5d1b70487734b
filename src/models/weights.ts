// Moves a model's tensors from the GGUF file to the device, checking every shape against the
// hyper-parameters first so a mismatched file fails with a clear message, not a wrong answer.
// Which tensors a layer has follows the family's declarations (arch.ts). Fused tensors (attn_qkv,
// Phi-3's gate|up) are uploaded as row ranges of the same bytes: a row range of a GGUF tensor is a
// contiguous byte range, so the parts cost no copy of the whole and no extra memory. Under a memory
// budget the matrices of the layers a ResidencyPlan does not keep are not uploaded: they stream
// through weight slots per forward pass (layer-stream.ts).
import type { Backend, Weight } from '../backends/backend.ts';
import type { GGUFFile, GGUFTensorInfo } from '../formats/gguf/reader.ts';
import { EngineError } from '../shared/errors.ts';
import { dequantizeTensor, getTraits } from '../quant/traits.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';
import type { RopeFactorTensors } from './layer-plan.ts';
import { EmbedRows, headUnits, LayerStream, type HeadRun, type StreamTensor, type StreamedLayer } from './layer-stream.ts';
import type { ResidencyPlan } from './residency.ts';

export interface LayerWeights {
  attnNorm: Weight; wq: Weight; wk: Weight; wv: Weight; wo: Weight;
  bq?: Weight; bk?: Weight; bv?: Weight;
  /** per-head norms of q and k (qkNorm families) */
  qNorm?: Weight; kNorm?: Weight;
  /** sandwich norms after attention and FFN (postNorms families) */
  attnPostNorm?: Weight; ffnPostNorm?: Weight;
  ffnNorm: Weight; gate: Weight; up: Weight; down: Weight;
}

export interface ModelWeights {
  /** resident token embeddings; undefined when `embedRows` reads them from the source per batch */
  tokEmbd?: Weight;
  embedRows?: EmbedRows;
  outputNorm: Weight;
  /** the LM head (token_embd when the model ties them); undefined when it streams as `headRuns` */
  output?: Weight;
  headRuns?: HeadRun[];
  /** undefined where the layer streams: then `stream` supplies it per forward pass */
  layers: (LayerWeights | undefined)[];
  ropeFactors: RopeFactorTensors;
  stream?: LayerStream;
}

export type LoadProgress = (p: { loadedBytes: number; totalBytes: number; tensor: string }) => void;

interface Need { name: string; shape: number[]; optional?: boolean }

function plan(h: HParams, arch: ArchSpec, file: Pick<GGUFFile, 'tensor'>): Need[] {
  const qDim = h.nHead * h.headDim, kvDim = h.nHeadKV * h.headDim;
  const half = h.nRot / 2;
  const needs: Need[] = [
    { name: 'token_embd.weight', shape: [h.dim, h.vocabSize] },
    { name: 'output_norm.weight', shape: [h.dim] },
    ...(arch.tiedOutput ? [] : [{ name: 'output.weight', shape: [h.dim, h.vocabSize], optional: true }]),
    { name: 'rope_freqs.weight', shape: [half], optional: true },
    { name: 'rope_factors_long.weight', shape: [half], optional: true },
    { name: 'rope_factors_short.weight', shape: [half], optional: true },
  ];
  for (let l = 0; l < h.nLayers; l++) {
    const b = (s: string) => `blk.${l}.${s}`;
    const add = (s: string, shape: number[], optional = false) => needs.push({ name: b(s), shape, optional });
    add('attn_norm.weight', [h.dim]);
    // q, k, v fused or apart, whatever the family: llama.cpp accepts both for every family
    if (file.tensor(b('attn_qkv.weight'))) {
      add('attn_qkv.weight', [h.dim, qDim + 2 * kvDim]);
      if (arch.qkvBias) add('attn_qkv.bias', [qDim + 2 * kvDim]);
    } else {
      add('attn_q.weight', [h.dim, qDim]);
      add('attn_k.weight', [h.dim, kvDim]);
      add('attn_v.weight', [h.dim, kvDim]);
      if (arch.qkvBias) { add('attn_q.bias', [qDim]); add('attn_k.bias', [kvDim]); add('attn_v.bias', [kvDim]); }
    }
    if (arch.qkNorm) { add('attn_q_norm.weight', [h.headDim]); add('attn_k_norm.weight', [h.headDim]); }
    add('attn_output.weight', [qDim, h.dim]);
    if (arch.postNorms) { add('post_attention_norm.weight', [h.dim]); add('post_ffw_norm.weight', [h.dim]); }
    add('ffn_norm.weight', [h.dim]);
    if (arch.fusedGateUp) {
      add('ffn_up.weight', [h.dim, 2 * h.ffDim]);
    } else {
      add('ffn_gate.weight', [h.dim, h.ffDim]);
      add('ffn_up.weight', [h.dim, h.ffDim]);
    }
    add('ffn_down.weight', [h.ffDim, h.dim]);
  }
  return needs;
}

function resolve(file: Pick<GGUFFile, 'tensor'>, needs: Need[]): Map<string, GGUFTensorInfo> {
  const found = new Map<string, GGUFTensorInfo>();
  for (const n of needs) {
    const t = file.tensor(n.name);
    if (!t) {
      if (n.optional) continue;
      throw new EngineError('MISSING_TENSOR', `The model file has no tensor '${n.name}'; it is incomplete or not a supported layout.`);
    }
    const shape = [...t.shape];
    while (shape.length > n.shape.length && shape[shape.length - 1] === 1) shape.pop();
    if (shape.join() !== n.shape.join()) {
      throw new EngineError('BAD_SHAPE', `Tensor '${n.name}' has shape [${t.shape}] but the model's settings require [${n.shape}].`);
    }
    getTraits(t.type, t.name); // unsupported block types fail before anything is uploaded
    found.set(n.name, t);
  }
  return found;
}

/**
 * The loader's tensor checks (presence, shapes, block types) without reading or uploading
 * anything; returns the tensors it would read, by name (the memory pre-flight sizes these).
 */
export function checkWeights(file: Pick<GGUFFile, 'tensor'>, h: HParams, arch: ArchSpec): ReadonlyMap<string, GGUFTensorInfo> {
  return resolve(file, plan(h, arch, file));
}

/** A layer's tensor as the backend holds it: one weight, or consecutive parts of it (fused tensors). */
interface LayerTensor {
  info: GGUFTensorInfo;
  /** the LayerWeights field each part fills */
  keys: (keyof LayerWeights)[];
  /** rows of each part; for a fused bias (`slices`) values of each part within its one row */
  parts: number[];
  slices?: boolean;
}

function layerTensors(l: number, tensors: Map<string, GGUFTensorInfo>, h: HParams, arch: ArchSpec): LayerTensor[] {
  const qDim = h.nHead * h.headDim, kvDim = h.nHeadKV * h.headDim;
  const out: LayerTensor[] = [];
  const add = (s: string, keys: (keyof LayerWeights)[], parts?: number[], slices = false) => {
    const info = tensors.get(`blk.${l}.${s}`);
    if (info) out.push({ info, keys, parts: parts ?? [info.nElements / info.shape[0]], slices });
  };
  add('attn_norm.weight', ['attnNorm']);
  if (tensors.has(`blk.${l}.attn_qkv.weight`)) {
    add('attn_qkv.weight', ['wq', 'wk', 'wv'], [qDim, kvDim, kvDim]);
    add('attn_qkv.bias', ['bq', 'bk', 'bv'], [qDim, kvDim, kvDim], true);
  } else {
    add('attn_q.weight', ['wq']); add('attn_k.weight', ['wk']); add('attn_v.weight', ['wv']);
    add('attn_q.bias', ['bq']); add('attn_k.bias', ['bk']); add('attn_v.bias', ['bv']);
  }
  add('attn_q_norm.weight', ['qNorm']); add('attn_k_norm.weight', ['kNorm']);
  add('attn_output.weight', ['wo']);
  add('post_attention_norm.weight', ['attnPostNorm']); add('post_ffw_norm.weight', ['ffnPostNorm']);
  add('ffn_norm.weight', ['ffnNorm']);
  if (arch.fusedGateUp) add('ffn_up.weight', ['gate', 'up'], [h.ffDim, h.ffDim]);
  else { add('ffn_gate.weight', ['gate']); add('ffn_up.weight', ['up']); }
  add('ffn_down.weight', ['down']);
  return out;
}

/** Byte size of each part of a layer tensor. */
function partBytes(t: LayerTensor): number[] {
  const tr = getTraits(t.info.type, t.info.name);
  if (t.slices) {
    if (t.parts.some((n) => n % tr.blockSize)) {
      throw new EngineError('BAD_SHAPE', `Tensor '${t.info.name}' cannot be split into q/k/v parts at its block boundaries.`);
    }
    return t.parts.map((n) => (n / tr.blockSize) * tr.typeSize);
  }
  const rowBytes = (t.info.shape[0] / tr.blockSize) * tr.typeSize;
  return t.parts.map((rows) => rows * rowBytes);
}

/** Matrices stream with their layer; vectors (norms, biases) are tiny and stay resident. */
const streams = (t: LayerTensor) => !t.slices && t.info.nElements !== t.info.shape[0];

const roundUp = (n: number, align: number) => Math.ceil(n / align) * align;

/** Bytes of a device allocation per weight: the WASM heap rounds each to one 64-byte cache line. */
export const WEIGHT_ALIGN = 64;

/**
 * The weight bytes the loader will place on the device, as the backend holds them (each uploaded
 * weight rounded to `align`): `layerBytes[l]` are layer l's matrices (what a streamed layer moves),
 * `fixedBytes` everything else (embeddings, LM head, norms and biases of every layer), of which
 * `headBytes` are the embeddings and LM head (what streaming the head frees). The rope
 * factor tensors are read into JS, not uploaded, so they count nowhere. For planResidency and the
 * pre-flight; loadWeights places exactly these allocations.
 */
export function weightBytes(file: Pick<GGUFFile, 'tensor'>, h: HParams, arch: ArchSpec,
  align = WEIGHT_ALIGN): { fixedBytes: number; layerBytes: number[]; headBytes: number } {
  const tensors = resolve(file, plan(h, arch, file));
  const held = (t: GGUFTensorInfo) => roundUp(t.byteSize, align);
  const output = tensors.get('output.weight');
  const headBytes = held(tensors.get('token_embd.weight')!) + (output ? held(output) : 0);
  let fixedBytes = headBytes + held(tensors.get('output_norm.weight')!);
  const layerBytes: number[] = [];
  for (let l = 0; l < h.nLayers; l++) {
    let bytes = 0;
    for (const t of layerTensors(l, tensors, h, arch)) {
      const sum = partBytes(t).reduce((a, b) => a + roundUp(b, align), 0);
      if (streams(t)) bytes += sum; else fixedBytes += sum;
    }
    layerBytes.push(bytes);
  }
  return { fixedBytes, layerBytes, headBytes };
}

export interface LoadWeightsOptions {
  onProgress?: LoadProgress;
  /** resident[l] false: layer l's matrices stream through `slotBytes` slots instead of being uploaded */
  residency?: Pick<ResidencyPlan, 'resident' | 'slotBytes'> & {
    /** the embeddings are read per batch and the LM head streams in runs of at most headRows rows */
    streamHead?: { maxBatch: number; headRows: number };
  };
}

export async function loadWeights(file: GGUFFile, h: HParams, arch: ArchSpec, backend: Backend,
  opts: LoadWeightsOptions = {}): Promise<ModelWeights> {
  const tensors = resolve(file, plan(h, arch, file));
  const resident = (l: number) => opts.residency?.resident[l] ?? true;
  const perLayer = Array.from({ length: h.nLayers }, (_, l) => layerTensors(l, tensors, h, arch));
  const uploaded = [...tensors.values()].filter((t) => {
    const m = /^blk\.(\d+)\./.exec(t.name);
    return !m || resident(Number(m[1])) || !perLayer[Number(m[1])].some((x) => x.info === t && streams(x));
  });
  const totalBytes = uploaded.reduce((a, t) => a + t.byteSize, 0);
  let loadedBytes = 0;
  const done = (t: GGUFTensorInfo) => {
    loadedBytes += t.byteSize;
    opts.onProgress?.({ loadedBytes, totalBytes, tensor: t.name });
  };
  /** the tensor's parts as weights, each a contiguous byte range of it */
  const upParts = async (t: LayerTensor): Promise<Weight[]> => {
    const direct = backend.allocWeight && file.sources[t.info.fileIndex]?.readInto ? await upDirect(t) : undefined;
    if (direct) {
      done(t.info);
      return direct;
    }
    const data = await file.readTensor(t.info);
    let at = 0;
    const sizes = partBytes(t);
    const out = t.parts.map((n, i) => {
      const name = t.parts.length > 1 ? `${t.info.name}[${i}]` : t.info.name;
      const [cols, rows] = t.slices ? [n, 1] : [t.info.shape[0], n];
      const w = backend.uploadWeight(name, t.info.type as Weight['type'], cols, rows, data.subarray(at, at + sizes[i]));
      at += sizes[i];
      return w;
    });
    done(t.info);
    return out;
  };
  /** the parts read from the file straight into backend memory */
  const upDirect = async (t: LayerTensor): Promise<Weight[]> => {
    const sizes = partBytes(t);
    const out: Weight[] = [];
    let at = 0;
    for (const [i, n] of t.parts.entries()) {
      const name = t.parts.length > 1 ? `${t.info.name}[${i}]` : t.info.name;
      const [cols, rows] = t.slices ? [n, 1] : [t.info.shape[0], n];
      const w = backend.allocWeight!(name, t.info.type as Weight['type'], cols, rows);
      const dst = w.bytes();
      if (dst.length !== sizes[i]) throw new EngineError('BAD_SHAPE', `tensor '${name}': ${rows}×${cols} needs ${dst.length} bytes, the file holds ${sizes[i]}`);
      await file.readTensorInto(t.info, at, dst);
      at += sizes[i];
      out.push(w.weight);
    }
    return out;
  };
  const up = async (name: string) => {
    const info = tensors.get(name)!;
    return (await upParts({ info, keys: [], parts: [info.nElements / info.shape[0]] }))[0];
  };
  const vector = async (name: string) => {
    const t = tensors.get(name);
    return t ? dequantizeTensor(t.type, await file.readTensor(t), t.nElements, t.name) : undefined;
  };
  const sh = opts.residency?.streamHead;
  const embInfo = tensors.get('token_embd.weight')!;
  const tokEmbd = sh ? undefined : await up('token_embd.weight');
  const outputNorm = await up('output_norm.weight');
  const output = sh ? undefined : tensors.has('output.weight') ? await up('output.weight') : tokEmbd;
  const ropeFactors: RopeFactorTensors = {
    freqs: await vector('rope_freqs.weight'),
    long: await vector('rope_factors_long.weight'),
    short: await vector('rope_factors_short.weight'),
  };
  const layers: (LayerWeights | undefined)[] = [];
  const streamed = new Map<number, StreamedLayer>();
  for (let l = 0; l < h.nLayers; l++) {
    const fields: Partial<Record<keyof LayerWeights, Weight>> = {};
    const matrices: StreamTensor[] = [];
    let offset = 0;
    for (const t of perLayer[l]) {
      if (!resident(l) && streams(t)) {
        matrices.push({ ...slotLayout(t, partBytes(t)), offset });
        offset += roundUp(t.info.byteSize, WEIGHT_ALIGN);
        continue;
      }
      (await upParts(t)).forEach((w, i) => { fields[t.keys[i]] = w; });
    }
    if (resident(l)) layers.push(fields as LayerWeights);
    else { layers.push(undefined); streamed.set(l, { vectors: fields, tensors: matrices }); }
  }
  let headRuns: HeadRun[] | undefined, embedRows: EmbedRows | undefined;
  if (sh) {
    const head = headUnits(tensors.get('output.weight') ?? embInfo, h.nLayers, opts.residency!.slotBytes, sh.headRows);
    headRuns = head.runs;
    for (const [u, unit] of head.units) streamed.set(u, unit);
  }
  const stream = streamed.size ? new LayerStream(backend, file.sources, streamed, opts.residency!.slotBytes) : undefined;
  if (sh) embedRows = new EmbedRows(backend, file.sources[embInfo.fileIndex], embInfo, sh.maxBatch);
  return { tokEmbd, embedRows, outputNorm, output, headRuns, layers, ropeFactors, stream };
}

/** Where each part of a streamed tensor sits inside the tensor's bytes (one read fills them all). */
function slotLayout(t: LayerTensor, sizes: number[]): Omit<StreamTensor, 'offset'> {
  let at = 0;
  const views = t.parts.map((rows, i) => {
    const v = { key: t.keys[i], name: t.parts.length > 1 ? `${t.info.name}[${i}]` : t.info.name, at, rows };
    at += sizes[i];
    return v;
  });
  return { info: t.info, start: 0, bytes: t.info.byteSize, views };
}
