// Models on this device, as the worker reports them: what to load and how, what is stored, downloads
// and folder imports in progress, the memory pre-flight and the device's capabilities. Types only;
// api.ts re-exports them.
import type { KVType } from '../backends/kv-layout.ts';

export type BackendName = 'wasm' | 'webgpu';

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
