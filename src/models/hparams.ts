// Hyper-parameters of a decoder-only transformer, read from GGUF metadata (`<arch>.*` keys).
import type { GGUFValue } from '../formats/gguf/reader.ts';
import { EngineError, UnsupportedError } from '../shared/errors.ts';

export interface HParams {
  arch: string;
  name: string;
  nCtxTrain: number;
  dim: number;
  nLayers: number;
  ffDim: number;
  nHead: number;
  nHeadKV: number;
  headDim: number;
  /** dims rotated per head */
  nRot: number;
  ropeBase: number;
  /** linear rope scaling factor (1 = none) */
  ropeLinearFactor: number;
  rmsEps: number;
  vocabSize: number;
  /** `rope.scaling.type` as written ('linear', 'yarn', 'longrope', …), '' when absent */
  ropeScalingType: string;
  /** `rope.scaling.factor` (context extension factor), 1 when absent */
  ropeScalingFactor: number;
  /** `rope.scaling.original_context_length` (longrope picks its factors by it); nCtxTrain if absent */
  nCtxOrig: number;
  /** `rope.scaling.attn_factor`: multiplies rope's cos and sin (Phi-3 longrope); 1 if absent */
  ropeAttnFactor: number;
  /** `attention.sliding_window`, when present (0 = none) */
  slidingWindow?: number;
  /** `attention.sliding_window_pattern`: every n-th layer global, or a per-layer flag (true = sliding) */
  slidingWindowPattern?: number | boolean[];
  /** `rope.freq_base_swa`: rope base of the sliding-window layers */
  ropeBaseSwa?: number;
  /** `attn_logit_softcapping` / `final_logit_softcapping`, when present */
  attnSoftcap?: number;
  finalSoftcap?: number;
}

type Meta = Map<string, GGUFValue>;

function num(meta: Meta, key: string, fallback?: number): number {
  const v = meta.get(key);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new EngineError('BAD_SHAPE', v === undefined
    ? `The model file lacks the metadata key '${key}', which this architecture needs.`
    : `The metadata key '${key}' has an invalid value (${String(v)}).`);
}

function optNum(meta: Meta, key: string): number | undefined {
  return meta.has(key) ? num(meta, key) : undefined;
}

function pattern(meta: Meta, key: string, nLayers: number): number | boolean[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const arr = Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v as ArrayLike<unknown>) : null;
  if (arr && arr.length === nLayers) return arr.map((x) => x === true || x === 1);
  throw new EngineError('BAD_SHAPE', `The metadata key '${key}' must be a layer interval or ${nLayers} per-layer flags.`);
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0 || value > 1 << 24) {
    throw new EngineError('BAD_SHAPE', `The model's ${what} is ${value}, which is not a sane positive integer; the file is corrupt.`);
  }
  return value;
}

const ROPE_SCALING = ['none', 'linear', 'yarn', 'longrope'];

export function readHParams(meta: Meta, arch: string): HParams {
  const k = (s: string) => `${arch}.${s}`;
  const dim = positiveInt(num(meta, k('embedding_length')), 'embedding length');
  const nHead = positiveInt(num(meta, k('attention.head_count')), 'head count');
  const nHeadKV = positiveInt(num(meta, k('attention.head_count_kv'), nHead), 'KV head count');
  const headDim = positiveInt(num(meta, k('attention.key_length'), dim / nHead), 'head dimension');
  if (nHead % nHeadKV !== 0) {
    throw new EngineError('BAD_SHAPE', `The model has ${nHead} attention heads and ${nHeadKV} KV heads; heads must be a multiple of KV heads.`);
  }
  const valueLength = num(meta, k('attention.value_length'), headDim);
  if (valueLength !== headDim) throw new EngineError('BAD_SHAPE', `Different key (${headDim}) and value (${valueLength}) head sizes are not supported.`);
  const nRot = positiveInt(num(meta, k('rope.dimension_count'), headDim), 'rope dimension count');
  if (nRot > headDim || nRot % 2) throw new EngineError('BAD_SHAPE', `Rope dimension count ${nRot} does not fit head size ${headDim}.`);
  const scaling = meta.get(k('rope.scaling.type'));
  // a rope we would compute differently from the model's training is a wrong answer, not a model
  if (scaling !== undefined && !ROPE_SCALING.includes(String(scaling))) {
    throw new UnsupportedError('UNSUPPORTED_ARCH',
      `This model uses '${String(scaling)}' rope scaling, which this engine cannot run yet (supported: ${ROPE_SCALING.join(', ')}).`);
  }
  const factor = num(meta, k('rope.scaling.factor'), 1) || 1;
  const nLayers = positiveInt(num(meta, k('block_count')), 'layer count');
  const nCtxTrain = positiveInt(num(meta, k('context_length'), 2048), 'context length');
  const tokens = meta.get('tokenizer.ggml.tokens');
  const vocabSize = num(meta, k('vocab_size'), Array.isArray(tokens) ? tokens.length : 0);
  return {
    arch,
    name: typeof meta.get('general.name') === 'string' ? (meta.get('general.name') as string) : arch,
    nCtxTrain,
    dim,
    nLayers,
    ffDim: positiveInt(num(meta, k('feed_forward_length')), 'feed-forward size'),
    nHead,
    nHeadKV,
    headDim,
    nRot,
    ropeBase: num(meta, k('rope.freq_base'), 10000),
    // llama.cpp reads a factor without a type as linear scaling
    ropeLinearFactor: scaling === undefined || scaling === 'linear' ? factor : 1,
    rmsEps: num(meta, k('attention.layer_norm_rms_epsilon'), 1e-5),
    vocabSize: positiveInt(vocabSize, 'vocabulary size'),
    ropeScalingType: typeof scaling === 'string' ? scaling : '',
    ropeScalingFactor: factor,
    nCtxOrig: positiveInt(num(meta, k('rope.scaling.original_context_length'), nCtxTrain), 'original context length'),
    ropeAttnFactor: num(meta, k('rope.scaling.attn_factor'), 1),
    slidingWindow: optNum(meta, k('attention.sliding_window')),
    slidingWindowPattern: pattern(meta, k('attention.sliding_window_pattern'), nLayers),
    ropeBaseSwa: optNum(meta, k('rope.freq_base_swa')),
    attnSoftcap: optNum(meta, k('attn_logit_softcapping')),
    finalSoftcap: optNum(meta, k('final_logit_softcapping')),
  };
}
