// The typed contract between the UI and the engine worker. Types only: the UI imports this file
// and client.ts, never engine code. Two layers:
//   EngineWorkerApi — what the worker exposes through Comlink (callbacks are Comlink proxies;
//                     cancellation is a request id + abort(), since AbortSignal cannot cross).
//   EngineClient    — what the UI calls: OpenAI-style chat.completions.create with an AbortSignal.
// The data they carry lives in api-chat.ts (the chat wire) and api-models.ts (models, storage,
// pre-flight), re-exported here so callers import one file.
import type { ChatCompletionChunk, ChatCompletionParams } from './api-chat.ts';
import type {
  Capabilities, DownloadRequest, ExportedFile, FitInfo, FitOptions, FitSource, FolderImportProgress, FolderImportRequest,
  LoadedModelInfo, LoadOptions, LoadProgress, ModelRef, StoredModel, TransferProgress,
} from './api-models.ts';

export type * from './api-chat.ts';
export type * from './api-models.ts';

/** Which folders importFolder stores as MLC weights instead of converting (names only; the page names the transfer by it). */
export { isMLCFolder } from '../formats/mlc/detect.ts';

/**
 * Which engine answers a chat: ours (the worker, GGUF on WebGPU/WASM), a remote OpenAI-compatible
 * server (llama.cpp's llama-server alone or over its RPC cluster, `cli serve` on another board,
 * vLLM, Ollama), or WebLLM (MLC's compiled model libraries, GPU only).
 */
export type EngineKind = 'local' | 'remote' | 'webllm';

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

/** What the UI uses (client.ts). */
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
