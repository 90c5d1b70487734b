// The chat wire: OpenAI chat.completions shapes as every engine takes and streams them (ours, a
// remote server, WebLLM), with llama.cpp's extras (sampler knobs, grammar, reasoning_content,
// timings). Types only; api.ts re-exports them.
import type { ResponseFormat } from '../engine/grammar/compile.ts';
import type { Tool, ToolCall, ToolCallDelta, ToolChoice } from '../engine/tools/types.ts';
import type { BackendName, GpuFallback } from './api-models.ts';

/** Function calling, in OpenAI's shapes (see src/engine/tools/types.ts for each field). */
export type { Tool, ToolCall, ToolCallDelta, ToolChoice };

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
  /** OpenAI: report each answer token's logprob on the chunks (of the model's raw distribution: engine/logprobs.ts) */
  logprobs?: boolean;
  /** OpenAI: with logprobs, this many most likely alternatives per token (0..20, default 0) */
  top_logprobs?: number;
  /** OpenAI: token id (as a decimal string) → bias added to its logit before sampling (-100 ≈ ban, 100 ≈ force) */
  logit_bias?: Record<string, number>;
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
/** Where a stats line's numbers came from: one of our backends, or another engine. */
export type StatsBackend = BackendName | 'remote' | 'webllm';

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

/** OpenAI's logprob of one token: its text, its UTF-8 bytes (the text may cut a character), and (llama-server's extra) its id. */
export interface TopLogprob {
  id: number;
  token: string;
  logprob: number;
  bytes: number[];
}
export interface TokenLogprobInfo extends TopLogprob {
  top_logprobs: TopLogprob[];
}

/** One streamed piece; the last one has finish_reason, usage and stats set and no content. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  /** logprobs (when asked for): the tokens this chunk's text completes (a chunk may carry them with an empty delta) */
  choices: [{ index: 0; delta: ChatCompletionDelta; finish_reason: FinishReason | null; logprobs?: { content: TokenLogprobInfo[] } }];
  usage?: Usage;
  stats?: CompletionStats;
}
