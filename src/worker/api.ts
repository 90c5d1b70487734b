// The typed contract between the UI and the engine worker. Types only: the UI imports this file
// and client.ts, never engine code. Two layers:
//   EngineWorkerApi — what the worker exposes through Comlink (callbacks are Comlink proxies;
//                     cancellation is a request id + abort(), since AbortSignal cannot cross).
//   EngineClient    — what the UI calls: OpenAI-style chat.completions.create with an AbortSignal.

import type { ResponseFormat } from '../engine/grammar/compile.ts';
import type { KVType } from '../backends/kv-layout.ts';
import type { Tool, ToolCall, ToolCallDelta, ToolChoice } from '../engine/tools/types.ts';

/** Function calling, in OpenAI's shapes (see src/engine/tools/types.ts for each field). */
export type { Tool, ToolCall, ToolCallDelta, ToolChoice };

/** Which folders importFolder stores as MLC weights instead of converting (names only; the page names the transfer by it). */
export { isMLCFolder } from '../formats/mlc/detect.ts';

/** 'tool': the result of a function call, sent back to the model (with tool_call_id) */
export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  role: Role;
  /** the answer only, never the thinking (may be '' on an assistant turn that only calls tools); a tool turn: the result */
  content: string;
  /** an assistant turn's thinking (llama.cpp server's field); the chat template decides whether past turns show it */
  reasoning_content?: string;
  /** an assistant turn's function calls, as the answer's message.tool_calls gave them */
  tool_calls?: ToolCall[];
  /** a tool turn: the id of the call it answers */
  tool_call_id?: string;
  /** a tool turn: the called function's name (templates that show it, and the fallback, read it) */
  name?: string;
}

/** Template variables, as llama.cpp's server takes them. */
export interface ChatTemplateKwargs {
  /** for templates that read it (Qwen3, DeepSeek-R1 …); default true, as llama.cpp */
  enable_thinking?: boolean;
}

/** OpenAI chat.completions parameters we honour (plus llama.cpp-style sampler knobs). */
export interface ChatCompletionParams {
  messages: ChatMessage[];
  stream: true;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  max_tokens?: number;
  stop?: string | string[];
  seed?: number;
  repeat_penalty?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  chat_template_kwargs?: ChatTemplateKwargs;
  /** llama.cpp server's flag: default true */
  context_shift?: boolean;
  /** OpenAI's structured output: json_object, or json_schema (the answer is constrained to it) */
  response_format?: ResponseFormat;
  /** llama.cpp server's GBNF grammar */
  grammar?: string;
  /** llama.cpp server's JSON schema (the same as response_format json_schema) */
  json_schema?: unknown;
  /** functions the model may call; rendered into the model's chat template */
  tools?: Tool[];
  /**
   * default 'auto' with tools: 'none' hides them, 'required' or a named function constrains the
   * answer to one call (a grammar of the template's call syntax and the function's parameters)
   */
  tool_choice?: ToolChoice;
}

/** 'tool_calls': the model stopped after calling functions (the deltas carried tool_calls) */
export type FinishReason = 'stop' | 'length' | 'abort' | 'tool_calls';
export type BackendName = 'wasm' | 'webgpu';

/**
 * Which engine answers a chat: ours (the worker, GGUF on WebGPU/WASM), a remote OpenAI-compatible
 * server (llama.cpp's llama-server alone or over its RPC cluster, `cli serve` on another board,
 * vLLM, Ollama), or WebLLM (MLC's compiled model libraries, GPU only).
 */
export type EngineKind = 'local' | 'remote' | 'webllm';

/** Where a stats line's numbers came from: one of our backends, or another engine. */
export type StatsBackend = BackendName | 'remote' | 'webllm';

/** Why a model is on WASM although the GPU was wanted ('auto'); data, so the UI words it itself. */
export type GpuFallback =
  /** the browser exposes no WebGPU (navigator.gpu) */
  | { kind: 'no-webgpu' }
  /** WebGPU is there but requestAdapter() found no GPU */
  | { kind: 'no-adapter' }
  /** the only adapter emulates a GPU on the CPU (SwiftShader, llvmpipe): the WASM kernels are faster */
  | { kind: 'software-adapter'; adapter: string }
  /** the adapter refused to create a device (a feature or limit it lacks, a driver problem) */
  | { kind: 'device-failed'; message: string }
  /** the model failed on the GPU while loading (out of GPU memory, a block format without a GPU kernel, …) */
  | { kind: 'load-failed'; code?: string; message: string }
  /** the GPU failed during an answer (device lost); the model moved to WASM */
  | { kind: 'gpu-lost'; message: string };

/** Timing of one answer, as the seed write-ups report it. */
export interface CompletionStats {
  promptTokens: number;
  /** prompt tokens actually computed (the rest came from the KV cache) */
  prefilledTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  /** times the conversation outgrew the context and its oldest part was dropped (context shift) */
  contextShifts?: number;
  backend: StatsBackend;
  threads: number;
  /** set when this answer ran on WASM although the GPU was wanted */
  gpuFallback?: GpuFallback;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * Streamed text. A model's thinking (`<think>…</think>` at the start of its answer, or everything up
 * to `</think>` when the template opened the block itself) comes as reasoning_content, never as content.
 */
export interface ChatCompletionDelta {
  role?: 'assistant';
  content?: string;
  reasoning_content?: string;
  /**
   * function calls, OpenAI's streaming shape: a call's first piece has index, id, type and
   * function.name; its later pieces (same index) carry function.arguments fragments to concatenate
   */
  tool_calls?: ToolCallDelta[];
}

/** One streamed piece; the last one has finish_reason, usage and stats set and no content. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: [{ index: 0; delta: ChatCompletionDelta; finish_reason: FinishReason | null }];
  usage?: Usage;
  stats?: CompletionStats;
}

/** A model to load: one stored in IndexedDB, or one shipped with the app (fetched whole; small). */
export type ModelRef =
  | { kind: 'stored'; id: string }
  /** sha256: the catalogue's hash; the fetched bytes must match it (INTEGRITY error otherwise) */
  | { kind: 'bundled'; url: string; name: string; sha256?: string };

export interface LoadOptions {
  /** default 'auto': WebGPU when it works, else WASM */
  backend?: 'auto' | BackendName;
  /** WASM kernel threads; default: logical CPUs (at most 8) when cross-origin isolated, else 1 */
  threads?: number;
  /** context length; default min(training context, 4096) */
  nCtx?: number;
  /** KV cache element type; default f16 */
  kvType?: KVType;
  /**
   * Device memory cap in bytes for the engine (weights, KV cache, scratch on the backend); weights
   * past it stream layer by layer from the stored shards on every forward pass. Default: no cap.
   */
  maxMemoryBytes?: number;
}

export interface LoadProgress {
  phase: 'fetch' | 'weights';
  loaded: number;
  total: number;
}

/** Sampler settings the model ships with (GGUF general.sampling.*, generation_config, mlc-chat-config); they apply where a request leaves the field out. */
export interface ModelSamplingDefaults {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface LoadedModelInfo {
  ref: ModelRef;
  name: string;
  arch: string;
  contextLength: number;
  vocabSize: number;
  /** how prompts are built: the model's template, an MLC folder's conv_template, a named fallback, or plain continuation */
  template: 'model' | `mlc:${string}` | `named:${string}` | 'none';
  /** the template reads enable_thinking, so thinking can be turned on and off */
  thinkingToggle: boolean;
  samplingDefaults: ModelSamplingDefaults;
  backend: BackendName;
  threads: number;
  loadMs: number;
  /** set when the backend was 'auto' (or the GPU failed later) and the model runs on WASM */
  gpuFallback?: GpuFallback;
}

export interface StoredModel {
  id: string;
  name: string;
  files: { name: string; size: number; sha256?: string }[];
  size: number;
  storedBytes: number;
  /** false: a download that can be resumed (or deleted) */
  complete: boolean;
  /** stored chunks IndexedDB no longer holds (evicted or deleted): > 0 means it cannot load; download it again */
  missingChunks: number;
  source: { kind: 'file' | 'url'; url?: string };
  createdAt: number;
  /** 'mlc': an MLC-LLM folder stored as it was (several files, loaded as MLC weights); else GGUF */
  format: 'gguf' | 'mlc';
  /** an MLC folder's quantization (q4f16_1, …) */
  quantization?: string;
}

export interface TransferProgress {
  /** 'verify': the stored bytes are being hashed against the expected SHA-256 */
  phase?: 'download' | 'verify';
  loaded: number;
  total: number;
  bytesPerSec: number;
  /** seconds left; Infinity while the speed is unknown */
  etaSec: number;
  /** another tab of the app is downloading this model; this one shows its progress (worker/shared-download.ts) */
  otherTab?: boolean;
}

/** Output types a folder import offers (engine/convert.ts ConvertType; 'keep' stores the folder's own types). */
export type FolderImportType = 'Q4_K_M' | 'Q8_0' | 'Q4_0' | 'Q6_K' | 'F16' | 'F32' | 'BF16' | 'keep';

/** A Hugging Face folder picked in the page: its Files by path relative to the folder root. */
export interface FolderImportRequest {
  /** names this import for cancelImport */
  importId: string;
  folder: { name: string; files: { path: string; file: File }[] };
  type: FolderImportType;
}

/** Per tensor while a folder is converted and stored (bytes are the folder's, read so far). */
export interface FolderImportProgress {
  /** what `tensor`, `index`, `count` count: tensors converted (a Hugging Face folder) or files stored as they are (an MLC folder) */
  unit: 'tensor' | 'file';
  tensor: string;
  /** 0-based, of `count` */
  index: number;
  count: number;
  doneBytes: number;
  totalBytes: number;
  tensorBytes: number;
  tensorDoneBytes: number;
  bytesPerSec: number;
  /** seconds left; Infinity while the speed is unknown */
  etaSec: number;
  /** chunks are converted on this many workers (1: in the engine worker itself) */
  workers: number;
}

/** A stored model's file as a Blob read from the cache (for "Export .gguf"). */
export interface ExportedFile {
  name: string;
  blob: Blob;
}

export interface DownloadRequest {
  /** model id in the cache (letters, digits, . _ -) */
  id: string;
  url: string;
  name: string;
  sha256?: string;
  size?: number;
}

/** Where the header for a memory pre-flight comes from: nothing but the header is read. */
export type FitSource =
  | { kind: 'url'; url: string }
  | { kind: 'stored'; id: string }
  | { kind: 'file'; files: File[] }
  | { kind: 'bundled'; url: string; name: string };

export interface FitOptions {
  /** default 'auto': WebGPU when available, else WASM (the better verdict of the two) */
  backend?: 'auto' | BackendName;
  /** context; default min(training context, 4096) */
  nCtx?: number;
  kvType?: 'f32' | 'f16' | 'q8_0';
}

export type FitVerdict = 'fits' | 'fits-with-ctx' | 'needs-streaming' | 'does-not-fit';

/** The pre-flight's answer (README: fit --json), for the UI to show before a download or load. */
export interface FitInfo {
  verdict: FitVerdict;
  backend: BackendName;
  nCtx: number;
  kvType: KVType;
  weightsBytes: number;
  kvBytes: number;
  scratchBytes: number;
  totalBytes: number;
  /** the largest context that fits with every layer resident (0: none) */
  maxCtx: number;
  budgetBytes: number;
  limitedBy: 'memory' | 'wasm32' | 'gpu-buffer';
  streaming?: { residentLayers: number; nLayers: number; streamedBytesPerToken: number; decodeTokensPerSec: number; assumedReadBytesPerSec: number };
  needsBytes?: number;
  hasBytes?: number;
  /** a model not yet stored (url, file): its file bytes against the storage quota left (navigator.storage.estimate) */
  storage?: { neededBytes: number; availableBytes: number; fits: boolean };
  /** one line for people */
  message: string;
}

/** The memory the pre-flight counts on: navigator.deviceMemory (≤ 8 GiB, rounded), else an assumed 4 GiB. */
export interface MemoryBudgetInfo {
  deviceMemoryBytes?: number;
  budgetBytes: number;
  /** the most a wasm32 heap can address */
  wasm32Bytes: number;
}

export interface Capabilities {
  webgpu: {
    available: boolean;
    adapter?: { vendor: string; architecture: string; device: string; description: string };
    f16: boolean;
    limits?: Record<string, number>;
    /** why WebGPU is unavailable */
    reason?: string;
  };
  threads: { hardware: number; crossOriginIsolated: boolean; sharedMemory: boolean };
  storage: { usage?: number; quota?: number; persisted: boolean | null };
  memory: MemoryBudgetInfo;
}

/** Errors arrive as Error objects with the engine's stable `code` (see src/shared/errors.ts). */
export interface EngineErrorInfo {
  name: string;
  message: string;
  code?: string;
}

/**
 * What became of the model loaded before a failed loadModel: 'kept' — it stayed loaded and
 * answering throughout; 'reloaded' — memory could not hold both, so it was unloaded for the new
 * one and loaded again after that failed; 'lost' — it could not be loaded again.
 */
export type PreviousModel = 'kept' | 'reloaded' | 'lost';

/** A rejected loadModel: the engine error plus `previous` when a model was loaded before. */
export interface LoadFailureInfo extends EngineErrorInfo {
  previous?: PreviousModel;
}

export type Callback<T> = (value: T) => void;

/** The Comlink surface of engine.worker.ts. */
export interface EngineWorkerApi {
  capabilities(): Promise<Capabilities>;
  /** answers at once: the page's heartbeat while a call is in flight */
  ping(): Promise<void>;
  /** takes the Web Lock `name` for the worker's whole life (the page learns of its death when it frees); resolves once held */
  holdAliveLock(name: string): Promise<void>;
  /** Loads the new model fully before the previous one goes; rejects with a LoadFailureInfo. */
  loadModel(ref: ModelRef, opts: LoadOptions, onProgress?: Callback<LoadProgress>): Promise<LoadedModelInfo>;
  unloadModel(): Promise<void>;
  loadedModel(): Promise<LoadedModelInfo | null>;
  listModels(): Promise<StoredModel[]>;
  deleteModel(id: string): Promise<void>;
  importFiles(files: File[], onProgress?: Callback<TransferProgress>): Promise<StoredModel>;
  /**
   * Converts a Hugging Face folder to a GGUF of `type` on this device and stores it; a failed or
   * cancelled import leaves nothing stored. Rejects with code ABORTED when cancelled.
   */
  importFolder(req: FolderImportRequest, onProgress?: Callback<FolderImportProgress>): Promise<StoredModel>;
  cancelImport(importId: string): Promise<void>;
  /** The stored file `fileIndex` (default 0) as a Blob assembled chunk by chunk from the cache. */
  exportModel(id: string, fileIndex?: number): Promise<ExportedFile>;
  /** Starts or resumes a download; rejects with code ABORTED when paused. */
  download(req: DownloadRequest, onProgress?: Callback<TransferProgress>): Promise<StoredModel>;
  pauseDownload(id: string): Promise<void>;
  /** "Will it fit?" from the header alone (an HTTP range, Blob.slice or the stored first bytes), before a download or load. */
  fitModel(source: FitSource, opts?: FitOptions): Promise<FitInfo>;
  /** Streams chunks to onChunk; resolves after the last one. */
  completion(requestId: string, params: ChatCompletionParams, onChunk: Callback<ChatCompletionChunk>): Promise<void>;
  abort(requestId: string): Promise<void>;
}

export interface CompletionOptions {
  signal?: AbortSignal;
}

/**
 * What every engine does for a chat, so the chat UI (use-chat) does not care which one answers: the
 * same chunks, the same CompletionStats on the last chunk, errors as EngineError codes. Our worker's
 * EngineClient is one; the remote and WebLLM engines are the others.
 */
export interface ChatEngine {
  readonly kind: EngineKind;
  chat: {
    completions: {
      create(params: ChatCompletionParams, opts?: CompletionOptions): AsyncIterable<ChatCompletionChunk>;
    };
  };
}

/** A model another engine offers (a remote server's /v1/models, WebLLM's catalogue). */
export interface EngineModel {
  id: string;
  /** for people; defaults to id */
  name?: string;
  /** download size, where the engine knows it */
  sizeBytes?: number;
  /** WebLLM: the build needs the adapter's shader-f16 */
  requiresF16?: boolean;
}

/** What the UI uses (client.ts). */
/**
 * What became of the engine worker (client.ts restarts a dead one): 'restarting' — it died and a new
 * one starts, reloading `model` when set; 'ready' — the new one is up, with `loaded` (null: no model,
 * or its reload failed with `error`); 'gave-up' — it kept dying, so the new one runs without the model;
 * 'stopped' — even that died, nothing runs. `message` is for people.
 */
export type EngineEvent =
  | { kind: 'restarting'; reason: string; model?: ModelRef; name?: string }
  | { kind: 'ready'; loaded: LoadedModelInfo | null; error?: string }
  | { kind: 'gave-up'; message: string; model?: ModelRef }
  | { kind: 'stopped'; message: string };

export interface EngineClient extends Omit<EngineWorkerApi, 'completion' | 'abort' | 'loadModel' | 'importFiles' | 'importFolder' | 'download' | 'ping' | 'holdAliveLock'>, ChatEngine {
  readonly kind: 'local';
  /** hears every EngineEvent; returns the unsubscribe */
  onEngineEvent(listener: (e: EngineEvent) => void): () => void;
  chat: {
    completions: {
      create(params: ChatCompletionParams, opts?: CompletionOptions): AsyncIterable<ChatCompletionChunk>;
    };
  };
  loadModel(ref: ModelRef, opts?: LoadOptions, onProgress?: Callback<LoadProgress>): Promise<LoadedModelInfo>;
  importFiles(files: File[], onProgress?: Callback<TransferProgress>): Promise<StoredModel>;
  importFolder(req: FolderImportRequest, onProgress?: Callback<FolderImportProgress>): Promise<StoredModel>;
  download(req: DownloadRequest, onProgress?: Callback<TransferProgress>): Promise<StoredModel>;
}
