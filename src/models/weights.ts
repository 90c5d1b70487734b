// Moves a model's tensors from the GGUF file to the device, checking every shape against the
// hyper-parameters first so a mismatched file fails with a clear message, not a wrong answer.
import type { Backend, Weight } from '../backends/backend.ts';
import type { GGUFFile, GGUFTensorInfo } from '../formats/gguf/reader.ts';
import { EngineError } from '../shared/errors.ts';
import { dequantizeTensor, getTraits } from '../quant/traits.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';

export interface LayerWeights {
  attnNorm: Weight; wq: Weight; wk: Weight; wv: Weight; wo: Weight;
  bq?: Weight; bk?: Weight; bv?: Weight;
  ffnNorm: Weight; gate: Weight; up: Weight; down: Weight;
}

export interface ModelWeights {
  tokEmbd: Weight;
  outputNorm: Weight;
  /** the LM head; token_embd when the model ties them */
  output: Weight;
  layers: LayerWeights[];
  /** llama3-style per-frequency rope divisors, if the model has them */
  ropeFreqs?: Float32Array;
}

export type LoadProgress = (p: { loadedBytes: number; totalBytes: number; tensor: string }) => void;

interface Need { name: string; shape: number[]; optional?: boolean }

function plan(h: HParams, arch: ArchSpec): Need[] {
  const qDim = h.nHead * h.headDim, kvDim = h.nHeadKV * h.headDim;
  const needs: Need[] = [
    { name: 'token_embd.weight', shape: [h.dim, h.vocabSize] },
    { name: 'output_norm.weight', shape: [h.dim] },
    { name: 'output.weight', shape: [h.dim, h.vocabSize], optional: true },
    { name: 'rope_freqs.weight', shape: [h.nRot / 2], optional: true },
  ];
  for (let l = 0; l < h.nLayers; l++) {
    const b = (s: string) => `blk.${l}.${s}`;
    needs.push(
      { name: b('attn_norm.weight'), shape: [h.dim] },
      { name: b('attn_q.weight'), shape: [h.dim, qDim] },
      { name: b('attn_k.weight'), shape: [h.dim, kvDim] },
      { name: b('attn_v.weight'), shape: [h.dim, kvDim] },
      { name: b('attn_output.weight'), shape: [qDim, h.dim] },
      { name: b('ffn_norm.weight'), shape: [h.dim] },
      { name: b('ffn_gate.weight'), shape: [h.dim, h.ffDim] },
      { name: b('ffn_up.weight'), shape: [h.dim, h.ffDim] },
      { name: b('ffn_down.weight'), shape: [h.ffDim, h.dim] },
    );
    if (arch.qkvBias) {
      needs.push({ name: b('attn_q.bias'), shape: [qDim] }, { name: b('attn_k.bias'), shape: [kvDim] },
        { name: b('attn_v.bias'), shape: [kvDim] });
    }
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

/** The loader's tensor checks (presence, shapes, block types) without reading or uploading anything. */
export function checkWeights(file: Pick<GGUFFile, 'tensor'>, h: HParams, arch: ArchSpec): void {
  resolve(file, plan(h, arch));
}

export async function loadWeights(file: GGUFFile, h: HParams, arch: ArchSpec, backend: Backend,
  onProgress?: LoadProgress): Promise<ModelWeights> {
  const tensors = resolve(file, plan(h, arch));
  const totalBytes = [...tensors.values()].reduce((a, t) => a + t.byteSize, 0);
  let loadedBytes = 0;
  const up = async (name: string): Promise<Weight> => {
    const t = tensors.get(name)!;
    const data = await file.readTensor(t);
    const w = backend.uploadWeight(name, t.type as Weight['type'], t.shape[0], t.nElements / t.shape[0], data);
    loadedBytes += t.byteSize;
    onProgress?.({ loadedBytes, totalBytes, tensor: name });
    return w;
  };
  const opt = async (name: string) => (tensors.has(name) ? up(name) : undefined);
  const tokEmbd = await up('token_embd.weight');
  const outputNorm = await up('output_norm.weight');
  const output = (await opt('output.weight')) ?? tokEmbd;
  let ropeFreqs: Float32Array | undefined;
  const rf = tensors.get('rope_freqs.weight');
  if (rf) ropeFreqs = dequantizeTensor(rf.type, await file.readTensor(rf), rf.nElements, rf.name);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < h.nLayers; l++) {
    const b = (s: string) => `blk.${l}.${s}`;
    layers.push({
      attnNorm: await up(b('attn_norm.weight')),
      wq: await up(b('attn_q.weight')), wk: await up(b('attn_k.weight')), wv: await up(b('attn_v.weight')),
      bq: await opt(b('attn_q.bias')), bk: await opt(b('attn_k.bias')), bv: await opt(b('attn_v.bias')),
      wo: await up(b('attn_output.weight')),
      ffnNorm: await up(b('ffn_norm.weight')),
      gate: await up(b('ffn_gate.weight')), up: await up(b('ffn_up.weight')), down: await up(b('ffn_down.weight')),
    });
  }
  return { tokEmbd, outputNorm, output, layers, ropeFreqs };
}
