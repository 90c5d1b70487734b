// Translation between our chat surface and WebLLM's: request parameters, the usage figures on its
// last chunk, load progress, and its errors as our EngineError codes. Pure, so Node tests it.
import type { ChatCompletionRequestStreaming, CompletionUsage, InitProgressReport } from '@mlc-ai/web-llm';
import { EngineError } from '../shared/errors.ts';
import type { ChatCompletionParams, CompletionStats, LoadProgress } from './api.ts';

/**
 * Our params as WebLLM's streaming request. WebLLM has no top_k/min_p; repeat_penalty is its
 * repetition_penalty; thinking goes through extra_body.enable_thinking (Qwen3). Structured output:
 * WebLLM's response_format is json_object with the schema as a string (XGrammar compiles it), or
 * grammar with EBNF text (GBNF's syntax is XGrammar's EBNF).
 */
export function toWebLLMRequest(p: ChatCompletionParams): ChatCompletionRequestStreaming {
  // WebLLM's function calling is limited to a few of its own models and formats: refused, not dropped
  if ((p.tools?.length && p.tool_choice !== 'none') || p.messages.some((m) => m.role === 'tool' || m.tool_calls?.length)) {
    throw new EngineError('TOOLS', 'The WebLLM engine does not take tools here: use this device or a remote server for function calling.');
  }
  const req: ChatCompletionRequestStreaming = {
    messages: p.messages.map((m) => ({ role: m.role, content: m.content }) as ChatCompletionRequestStreaming['messages'][number]),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (p.temperature !== undefined) req.temperature = p.temperature;
  if (p.top_p !== undefined) req.top_p = p.top_p;
  if (p.max_tokens !== undefined) req.max_tokens = p.max_tokens;
  if (p.stop !== undefined) req.stop = p.stop;
  if (p.seed !== undefined) req.seed = p.seed;
  if (p.frequency_penalty !== undefined) req.frequency_penalty = p.frequency_penalty;
  if (p.presence_penalty !== undefined) req.presence_penalty = p.presence_penalty;
  if (p.repeat_penalty !== undefined) req.repetition_penalty = p.repeat_penalty;
  if (p.chat_template_kwargs?.enable_thinking !== undefined) req.extra_body = { enable_thinking: p.chat_template_kwargs.enable_thinking };
  const format = webllmResponseFormat(p);
  if (format) req.response_format = format;
  return req;
}

function webllmResponseFormat(p: ChatCompletionParams): ChatCompletionRequestStreaming['response_format'] {
  const rf = p.response_format;
  const schema = p.json_schema ?? (rf?.type === 'json_schema' ? rf.json_schema?.schema : rf?.type === 'json_object' ? rf.schema : undefined);
  if (p.grammar !== undefined) return { type: 'grammar', grammar: p.grammar };
  if (schema !== undefined) return { type: 'json_object', schema: JSON.stringify(schema) };
  if (rf?.type === 'json_object' || rf?.type === 'json_schema') return { type: 'json_object' };
  return undefined;
}

/** What we measured ourselves, for when WebLLM's usage is missing (an interrupted answer has none). */
export interface ClientTiming {
  startMs: number;
  firstTokenMs?: number;
  endMs: number;
  /** content pieces seen: a lower bound on generated tokens */
  pieces: number;
}

/** CompletionStats from WebLLM's usage.extra, falling back to our own clock where it says nothing. */
export function statsFromUsage(usage: CompletionUsage | undefined, t: ClientTiming): CompletionStats {
  const x = usage?.extra;
  const generated = usage?.completion_tokens ?? t.pieces;
  const prompt = usage?.prompt_tokens ?? 0;
  const ttftMs = finite(x?.time_to_first_token_s) ? x!.time_to_first_token_s * 1000
    : t.firstTokenMs !== undefined ? t.firstTokenMs - t.startMs : t.endMs - t.startMs;
  const decodeMs = t.firstTokenMs !== undefined ? t.endMs - t.firstTokenMs : 0;
  const prefill = finite(x?.prefill_tokens_per_s) ? x!.prefill_tokens_per_s : ttftMs > 0 ? prompt / (ttftMs / 1000) : 0;
  const decode = finite(x?.decode_tokens_per_s) ? x!.decode_tokens_per_s
    : decodeMs > 0 && generated > 1 ? (generated - 1) / (decodeMs / 1000) : 0;
  return {
    promptTokens: prompt,
    // WebLLM reuses the KV cache of the conversation so far but reports only the prompt it was given
    prefilledTokens: prompt,
    generatedTokens: generated,
    timeToFirstTokenMs: ttftMs,
    prefillTokensPerSec: prefill,
    decodeTokensPerSec: decode,
    backend: 'webllm',
    threads: 1,
  };
}

function finite(n: number | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}

/**
 * WebLLM's progress is a fraction and a line of text ("Fetching param cache[3/22]: 120MB fetched.
 * 14% completed, …", "Loading model from cache[…]"). We pass the fraction as loaded/total of 1000
 * and keep its text for people.
 */
export function toLoadProgress(r: InitProgressReport): LoadProgress & { text: string } {
  const phase = /fetch/i.test(r.text) ? 'fetch' : 'weights';
  return { phase, loaded: Math.round(Math.min(1, Math.max(0, r.progress)) * 1000), total: 1000, text: r.text };
}

/** Where an error happened, so the message can say which model and URL. */
export interface ErrorContext {
  modelId?: string;
  modelUrl?: string;
  modelLibUrl?: string;
  /** set when the caller aborted */
  aborted?: boolean;
}

/**
 * WebLLM's errors as ours. Its error classes are not exported (only IntegrityError), but each sets
 * `name`; fetch failures are DOM TypeErrors/DOMExceptions from fetch() and Cache.add().
 */
export function mapWebLLMError(e: unknown, ctx: ErrorContext = {}): EngineError {
  if (e instanceof EngineError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const name = err.name;
  const msg = err.message;
  const model = ctx.modelId ? ` ${ctx.modelId}` : '';
  if (ctx.aborted || name === 'AbortError') return new EngineError('ABORTED', 'Stopped.', { cause: e });
  switch (name) {
    case 'WebGPUNotAvailableError':
    case 'WebGPUNotFoundError':
      return new EngineError('WEBLLM_UNSUPPORTED', 'WebLLM needs WebGPU, which this browser does not offer. Use the built-in engine (WASM) or a browser with WebGPU.', { cause: e });
    case 'ShaderF16SupportError':
      return new EngineError('WEBLLM_UNSUPPORTED', `This model${model} is an f16 build and the GPU adapter has no shader-f16; choose a q4f32 build.`, { cause: e });
    case 'FeatureSupportError':
      return new EngineError('WEBLLM_UNSUPPORTED', `${msg} Choose another build of the model.`, { cause: e });
    case 'DeviceLostError':
      return new EngineError('WEBLLM_FAILED', `The GPU dropped WebLLM while it ran${model}, most often because it ran out of GPU memory; try a smaller model or a shorter context.`, { cause: e });
    case 'ModelNotFoundError':
    case 'SpecifiedModelNotFoundError':
      return new EngineError('BAD_ARGUMENT', `WebLLM has no model${model} in its catalogue: pick one from the list or add it as a custom entry.`, { cause: e });
    case 'MissingModelError':
      return new EngineError('BAD_ARGUMENT', `The WebLLM entry${model} has no model library (.wasm) URL.`, { cause: e });
    case 'ModelNotLoadedError':
    case 'EngineNotLoadedError':
    case 'WorkerEngineModelNotLoadedError':
      return new EngineError('BAD_ARGUMENT', 'No WebLLM model is loaded yet: load one first.', { cause: e });
    case 'ContextWindowSizeExceededError':
      return new EngineError('CONTEXT_FULL', `The conversation is longer than the model's context window: start a new chat. (${msg.split('\n')[0]})`, { cause: e });
    case 'CompileError':
    case 'LinkError':
      return new EngineError('WEBLLM_FAILED', `The model library${ctx.modelLibUrl ? ` ${ctx.modelLibUrl}` : ''} is not a WebGPU model library this WebLLM version can use: ${msg}`, { cause: e });
    case 'IntegrityError':
      return new EngineError('WEBLLM_FAILED', `A downloaded file of${model} does not match its checksum: ${msg.split('\n')[0]}`, { cause: e });
  }
  if (/Cannot initialize runtime because of requested/.test(msg)) {
    return new EngineError('WEBLLM_UNSUPPORTED', `This GPU's WebGPU limits are below what WebLLM needs: ${msg}`, { cause: e });
  }
  if (/out of memory|\bOOM\b|allocation failed/i.test(msg)) {
    return new EngineError('WEBLLM_FAILED', `Not enough memory for${model || ' the model'}: ${msg} Try a smaller model.`, { cause: e });
  }
  // WebLLM's RangeError ("Make sure 0 < top_p <= 1.") shares its name with JavaScript's own
  if (/^(ConfigValueError|MinValueError|NonNegativeError|InvalidNumberStringError|DependencyError|SeedTypeError|InvalidStreamOptionsError|StreamingCountError|UnsupportedFieldsError)$/.test(name)
    || (name === 'RangeError' && msg.startsWith('Make sure'))) {
    return new EngineError('BAD_ARGUMENT', `WebLLM refused a parameter: ${msg}`, { cause: e });
  }
  if (/^(SystemMessageOrderError|MessageOrderError|UnsupportedRoleError|ContentTypeError)$/.test(name)) {
    return new EngineError('BAD_ARGUMENT', `WebLLM refused the conversation: ${msg}`, { cause: e });
  }
  if (/Unable to find a compatible GPU/.test(msg)) {
    return new EngineError('WEBLLM_UNSUPPORTED', 'WebLLM found no GPU adapter: WebGPU is exposed but has no adapter here.', { cause: e });
  }
  if (isFetchFailure(err)) {
    const where = ctx.modelUrl ? ` from ${ctx.modelUrl}` : '';
    return new EngineError('WEBLLM_FAILED',
      `Could not download${model}${where}: ${msg.replace(/\.$/, '')}. Check the URL, that the server is up and sends Access-Control-Allow-Origin (the app is cross-origin isolated), and that you are online.`,
      { cause: e });
  }
  return new EngineError('WEBLLM_FAILED', `WebLLM failed${model}: ${msg}`, { cause: e });
}

/** fetch(), Cache.add() and WebLLM's own "Cannot fetch" failures. */
function isFetchFailure(e: Error): boolean {
  return /Failed to fetch|NetworkError|Load failed|Request failed|Cannot fetch|fetch failed|status(?: code)? 4\d\d|HTTP [45]\d\d|Network request failed/i.test(e.message)
    || e.name === 'NetworkError';
}
