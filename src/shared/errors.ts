// Typed errors: every failure a user can meet carries a stable `code` and a message a person can act on.
// UI and CLI switch on `code`; they never parse messages.

export type ErrorCode =
  | 'GGUF_BAD_MAGIC'
  | 'GGUF_BAD_VERSION'
  | 'GGUF_TRUNCATED'
  | 'GGUF_CORRUPT'
  | 'GGUF_LIMIT'
  | 'UNSUPPORTED_TYPE'
  | 'UNSUPPORTED_ARCH'
  /** a .safetensors file ends before its header or data does */
  | 'SAFETENSORS_TRUNCATED'
  /** a .safetensors header (or a folder's index) that is not what the format says: bad JSON, offsets, shapes */
  | 'SAFETENSORS_CORRUPT'
  /** an MLC-LLM folder's tensor-cache.json (or ndarray-cache.json) that is not what the format says */
  | 'MLC_CORRUPT'
  /** an MLC-LLM params shard shorter than its tensor-cache.json says */
  | 'MLC_TRUNCATED'
  | 'SPLIT_MISSING'
  | 'SPLIT_FOREIGN'
  | 'SPLIT_DUPLICATE'
  | 'MISSING_TENSOR'
  | 'BAD_SHAPE'
  | 'TOKENIZER'
  | 'TEMPLATE'
  /** a GBNF grammar or JSON schema (response_format) that cannot be compiled: bad syntax, or a feature we do not support */
  | 'GRAMMAR'
  /** a bad `tools` or `tool_choice` (function calling), or tools together with another output constraint */
  | 'TOOLS'
  | 'OUT_OF_MEMORY'
  /** the memory pre-flight says the model cannot run on this device (before anything is stored) */
  | 'DOES_NOT_FIT'
  | 'QUOTA'
  /** a stored model lost chunks (evicted by the browser, or deleted): download it again */
  | 'MISSING_DATA'
  /** another tab (or this one) is writing the model right now: download, import or delete */
  | 'MODEL_BUSY'
  | 'CONTEXT_FULL'
  | 'IO'
  | 'ABORTED'
  | 'BAD_ARGUMENT'
  | 'BACKEND'
  /** another engine (#12): a remote OpenAI-compatible server, or WebLLM */
  | 'REMOTE_UNREACHABLE'
  | 'REMOTE_UNAUTHORIZED'
  | 'REMOTE_MODEL_MISSING'
  /** the server answered but the browser withheld it (no Access-Control-Allow-Origin, or a header it does not allow) */
  | 'REMOTE_CORS'
  /** the browser is offline: a remote engine cannot be reached at all */
  | 'OFFLINE'
  /** the server failed mid-request (5xx, a stream cut off, an error object) */
  | 'REMOTE_FAILED'
  /** WebLLM cannot run here (no WebGPU, or an f16 build on an adapter without shader-f16) */
  | 'WEBLLM_UNSUPPORTED'
  /** WebLLM failed to fetch, compile or run a model */
  | 'WEBLLM_FAILED'
  /** the engine worker died (killed by the browser, out of memory, crashed) or stopped answering */
  | 'WORKER_LOST';

export class EngineError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** The file is not a valid GGUF model (wrong magic, truncated, corrupt or absurd header). */
export class GGUFError extends EngineError {
  constructor(code: Extract<ErrorCode, `GGUF_${string}`>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'GGUFError';
  }
}

/** The file is valid but uses something this engine does not implement (tensor type, architecture). */
export class UnsupportedError extends EngineError {
  constructor(code: 'UNSUPPORTED_TYPE' | 'UNSUPPORTED_ARCH', message: string) {
    super(code, message);
    this.name = 'UnsupportedError';
  }
}

/** The files given are not exactly one complete split set (a part missing, from another model, or twice). */
export class SplitSetError extends EngineError {
  constructor(code: 'SPLIT_MISSING' | 'SPLIT_FOREIGN' | 'SPLIT_DUPLICATE', message: string) {
    super(code, message);
    this.name = 'SplitSetError';
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}
