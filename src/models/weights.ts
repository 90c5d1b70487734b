// Moves a model's tensors from the GGUF file to the device, checking every shape against the
// hyper-parameters first so a mismatched file fails with a clear message, not a wrong answer.
// Which tensors a layer has follows the family's declarations (arch.ts). Fused tensors (attn_qkv,
// Phi-3's gate|up) are uploaded as row ranges of the same bytes: a row range of a GGUF tensor is a
// contiguous byte range, so the parts cost no copy of the whole and no extra memory.
import type { Backend, Weight } from '../backends/backend.ts';
import type { GGUFFile, GGUFTensorInfo } from '../formats/gguf/reader.ts';
import { EngineError } from '../shared/errors.ts';
import { dequantizeTensor, getTraits } from '../quant/traits.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';
import type { RopeFactorTensors } from './layer-plan.ts';

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
  tokEmbd: Weight;
  outputNorm: Weight;
  /** the LM head; token_embd when the model ties them */
  output: Weight;
  layers: LayerWeights[];
  ropeFactors: RopeFactorTensors;
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

export async function loadWeights(file: GGUFFile, h: HParams, arch: ArchSpec, backend: Backend,
  onProgress?: LoadProgress): Promise<ModelWeights> {
  const tensors = resolve(file, plan(h, arch, file));
  const totalBytes = [...tensors.values()].reduce((a, t) => a + t.byteSize, 0);
  let loadedBytes = 0;
  const done = (t: GGUFTensorInfo) => {
    loadedBytes += t.byteSize;
    onProgress?.({ loadedBytes, totalBytes, tensor: t.name });
  };
  /** the tensor as one weight, or as weights of consecutive row ranges of the given sizes */
  const upRows = async (name: string, parts: number[]): Promise<Weight[]> => {
    const t = tensors.get(name)!;
    const cols = t.shape[0];
    const tr = getTraits(t.type, t.name);
    const rowBytes = (cols / tr.blockSize) * tr.typeSize;
    const data = await file.readTensor(t);
    let row = 0;
    const out = parts.map((rows, i) => {
      const w = backend.uploadWeight(parts.length > 1 ? `${name}[${i}]` : name, t.type as Weight['type'], cols, rows,
        data.subarray(row * rowBytes, (row + rows) * rowBytes));
      row += rows;
      return w;
    });
    done(t);
    return out;
  };
  /** a one-row tensor (a fused bias) as weights of consecutive value ranges */
  const upSlices = async (name: string, parts: number[]): Promise<Weight[]> => {
    const t = tensors.get(name)!;
    const tr = getTraits(t.type, t.name);
    if (parts.some((n) => n % tr.blockSize)) {
      throw new EngineError('BAD_SHAPE', `Tensor '${name}' cannot be split into q/k/v parts at its block boundaries.`);
    }
    const data = await file.readTensor(t);
    let at = 0;
    const out = parts.map((n, i) => {
      const bytes = (n / tr.blockSize) * tr.typeSize;
      const w = backend.uploadWeight(`${name}[${i}]`, t.type as Weight['type'], n, 1, data.subarray(at, at + bytes));
      at += bytes;
      return w;
    });
    done(t);
    return out;
  };
  const up = async (name: string): Promise<Weight> => {
    const t = tensors.get(name)!;
    return (await upRows(name, [t.nElements / t.shape[0]]))[0];
  };
  const opt = async (name: string) => (tensors.has(name) ? up(name) : undefined);
  const vector = async (name: string) => {
    const t = tensors.get(name);
    return t ? dequantizeTensor(t.type, await file.readTensor(t), t.nElements, t.name) : undefined;
  };
  const tokEmbd = await up('token_embd.weight');
  const outputNorm = await up('output_norm.weight');
  const output = (await opt('output.weight')) ?? tokEmbd;
  const ropeFactors: RopeFactorTensors = {
    freqs: await vector('rope_freqs.weight'),
    long: await vector('rope_factors_long.weight'),
    short: await vector('rope_factors_short.weight'),
  };
  const qDim = h.nHead * h.headDim, kvDim = h.nHeadKV * h.headDim;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < h.nLayers; l++) {
    const b = (s: string) => `blk.${l}.${s}`;
    const attnNorm = await up(b('attn_norm.weight'));
    let wq: Weight, wk: Weight, wv: Weight, bq: Weight | undefined, bk: Weight | undefined, bv: Weight | undefined;
    if (tensors.has(b('attn_qkv.weight'))) {
      [wq, wk, wv] = await upRows(b('attn_qkv.weight'), [qDim, kvDim, kvDim]);
      if (tensors.has(b('attn_qkv.bias'))) [bq, bk, bv] = await upSlices(b('attn_qkv.bias'), [qDim, kvDim, kvDim]);
    } else {
      wq = await up(b('attn_q.weight')); wk = await up(b('attn_k.weight')); wv = await up(b('attn_v.weight'));
      bq = await opt(b('attn_q.bias')); bk = await opt(b('attn_k.bias')); bv = await opt(b('attn_v.bias'));
    }
    const qNorm = await opt(b('attn_q_norm.weight'));
    const kNorm = await opt(b('attn_k_norm.weight'));
    const wo = await up(b('attn_output.weight'));
    const attnPostNorm = await opt(b('post_attention_norm.weight'));
    const ffnPostNorm = await opt(b('post_ffw_norm.weight'));
    const ffnNorm = await up(b('ffn_norm.weight'));
    let gate: Weight, upW: Weight;
    if (arch.fusedGateUp) {
      [gate, upW] = await upRows(b('ffn_up.weight'), [h.ffDim, h.ffDim]);
    } else {
      gate = await up(b('ffn_gate.weight'));
      upW = await up(b('ffn_up.weight'));
    }
    const down = await up(b('ffn_down.weight'));
    layers.push({ attnNorm, wq, wk, wv, bq, bk, bv, qNorm, kNorm, wo, attnPostNorm, ffnPostNorm, ffnNorm, gate, up: upW, down });
  }
  return { tokEmbd, outputNorm, output, layers, ropeFactors };
}
