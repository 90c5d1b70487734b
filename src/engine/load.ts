// Opens a GGUF, checks that we can run it, and builds tokenizer + weights + decoder on a backend.
import type { Backend } from '../backends/backend.ts';
import type { KVType } from '../backends/kv-layout.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { openGGUF, type GGUFFile } from '../formats/gguf/reader.ts';
import { DEFAULT_MAX_BATCH, Decoder } from '../models/decoder.ts';
import type { HParams } from '../models/hparams.ts';
import { defaultContext, estimateWasm, estimateWebGPU } from '../models/memory.ts';
import { checkModelSupport, tokenizerFor, type ModelHeader } from '../models/support.ts';
import { loadWeights, weightBytes, type LoadProgress } from '../models/weights.ts';
import { planResidency, type ResidencyPlan } from '../models/residency.ts';
import { EmbedRows } from '../models/layer-stream.ts';
import type { ArchSpec } from '../models/arch.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { EngineError } from '../shared/errors.ts';
import { modelSamplingDefaults } from './model-sampling.ts';
import type { SamplingParams } from './sampling.ts';

export interface LoadOptions {
  /** context length; default min(training context, 4096) */
  nCtx?: number;
  maxBatch?: number;
  /** KV cache element type; default f16 (as llama.cpp) */
  kvType?: KVType;
  onProgress?: LoadProgress;
  /**
   * The engine's device memory cap in bytes: every backend allocation (weights, KV cache,
   * activations, kernel scratch) — not the JS heap or the host process. Weights that do not fit
   * what the rest leaves stream layer by layer from the source (models/layer-stream.ts). Create the
   * backend with the same cap (WASM: maxMemoryBytes) so an overrun fails as OUT_OF_MEMORY.
   */
  maxMemoryBytes?: number;
}

export interface LoadedModel {
  file: GGUFFile;
  h: HParams;
  arch: ArchSpec;
  tokenizer: Tokenizer;
  decoder: Decoder;
  /** which layers stay resident under maxMemoryBytes (null when no cap was given) */
  residency: Residency | null;
  /** `tokenizer.chat_template`, if the file has one */
  chatTemplate: string | null;
  /** the sampler settings the model ships with (general.sampling.*, mlc-chat-config), for what the caller leaves unset */
  samplingDefaults: Partial<SamplingParams>;
  dispose(): Promise<void>;
}

/**
 * What a model is opened from: the GGUF file(s), or a model already presented as a GGUFFile (a
 * Hugging Face folder, formats/hf), which the loader then owns and closes.
 */
export type ModelInput = ByteSource | ByteSource[] | GGUFFile;

function isOpened(m: ModelInput): m is GGUFFile {
  return !Array.isArray(m) && 'tensors' in m && 'metadata' in m;
}

const openInput = (m: ModelInput) => (isOpened(m) ? Promise.resolve(m) : openGGUF(m));

/** Reads only the header: tokenizer and metadata (vocab-only GGUFs work here). */
export async function openTokenizer(input: ModelInput): Promise<{ file: GGUFFile; tokenizer: Tokenizer }> {
  const file = await openInput(input);
  return { file, tokenizer: tokenizerFor(file) };
}

export async function loadModel(sources: ByteSource | ByteSource[], backend: Backend, opts: LoadOptions = {}): Promise<LoadedModel> {
  return loadOpened(await openGGUF(sources), backend, opts);
}

/** loadModel for any ModelInput (the CLI's `--model` may be a folder). */
export async function loadModelInput(input: ModelInput, backend: Backend, opts: LoadOptions = {}): Promise<LoadedModel> {
  return loadOpened(await openInput(input), backend, opts);
}

/** Builds the model from an opened file, which it then owns (closed on failure or dispose). */
async function loadOpened(file: GGUFFile, backend: Backend, opts: LoadOptions): Promise<LoadedModel> {
  try {
    const { arch, h, tokenizer } = checkModelSupport(file);
    const nCtx = opts.nCtx ?? defaultContext(h);
    if (!Number.isInteger(nCtx) || nCtx < 1) throw new EngineError('BAD_ARGUMENT', `Context length must be a positive integer (got ${nCtx}).`);
    const kvType = opts.kvType ?? 'f16';
    if (kvType === 'q8_0' && h.headDim % 32 !== 0) {
      // as llama.cpp: a quantized cache's 32-value blocks must not straddle heads
      throw new EngineError('BAD_ARGUMENT', `A q8_0 KV cache needs heads of whole 32-value blocks; this model's heads have ${h.headDim} values (use an f16 KV cache).`);
    }
    const dopts = { nCtx, maxBatch: Math.min(opts.maxBatch ?? DEFAULT_MAX_BATCH, nCtx), kvType };
    let residency = null;
    if (opts.maxMemoryBytes !== undefined) {
      // what the backend holds besides the weights (KV cache, scratch), as the pre-flight counts it
      residency = residencyFor(file, h, arch, opts.maxMemoryBytes, workingBytes(file, h, arch, backend, dopts), dopts.maxBatch);
    }
    const weights = await loadWeights(file, h, arch, backend, { onProgress: opts.onProgress, residency: residency ?? undefined });
    const decoder = new Decoder(backend, h, arch, weights, dopts);
    const tpl = file.metadata.get('tokenizer.chat_template');
    return {
      file, h, arch, tokenizer, decoder, residency,
      chatTemplate: typeof tpl === 'string' ? tpl : null,
      samplingDefaults: modelSamplingDefaults(file, nCtx),
      dispose: async () => { backend.dispose(); await file.close(); },
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** A ResidencyPlan, and whether the embeddings and LM head stream too (streamedBytesPerPass counts them). */
export type Residency = ResidencyPlan & { streamHead?: { maxBatch: number; headRows: number } };

/**
 * The residency for a device memory cap, or OUT_OF_MEMORY naming the least cap that can run.
 * Layers stream first (planResidency: the first ones stay); only when embeddings, LM head and two
 * slots still do not fit are the embeddings read per batch and the head streamed in row runs.
 */
/** What a backend holds besides the weights (KV cache, scratch), as the memory pre-flight counts it. */
export function workingBytes(file: ModelHeader, h: HParams, arch: ArchSpec, backend: Pick<Backend, 'name' | 'threads'>,
  o: { nCtx: number; maxBatch: number; kvType: KVType }): number {
  const est = (backend.name === 'wasm' ? estimateWasm : estimateWebGPU)(file, h, arch, { ...o, threads: backend.threads });
  // the cap is the engine's, not only the backend's: the tokenizer's JS heap counts against it too
  return est.kvBytes + est.scratchBytes + est.tokenizerBytes;
}

export function residencyFor(file: GGUFFile, h: HParams, arch: ArchSpec, maxBytes: number, working: number, maxBatch: number): Residency {
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) throw new EngineError('BAD_ARGUMENT', `The memory cap must be a positive number of bytes (got ${maxBytes}).`);
  const { fixedBytes, layerBytes, headBytes } = weightBytes(file, h, arch);
  const plan = planResidency(layerBytes, fixedBytes, maxBytes - working);
  if (plan) return plan;
  const emb = file.tensor('token_embd.weight')!;
  const headless = fixedBytes - headBytes + EmbedRows.bytes(emb, maxBatch);
  const streamed = planResidency(layerBytes, headless, maxBytes - working);
  if (streamed) {
    const output = file.tensor('output.weight') ?? emb;
    return { ...streamed, streamedBytesPerPass: streamed.streamedBytesPerPass + output.byteSize, streamHead: { maxBatch, headRows: h.ffDim } };
  }
  const slot = Math.max(0, ...layerBytes);
  const least = working + headless + 2 * slot;
  throw new EngineError('OUT_OF_MEMORY', `${h.name || 'The model'} needs at least ${mib(least)} of device memory even streaming every layer ` +
    `and its embeddings (two layer slots of ${mib(slot)}, ${mib(headless)} norms and embedding rows, ${mib(working)} KV cache and scratch); ` +
    `the cap is ${mib(maxBytes)}.`);
}
