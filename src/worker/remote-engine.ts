// The remote engine: any OpenAI-compatible server (llama.cpp's llama-server alone or over its RPC
// cluster, `cli serve` on another board, vLLM, Ollama) behind the same ChatEngine as ours. It runs
// where it is created (the page): plain fetch and SSE, so an abort closes the connection and the
// server stops generating.
import { EngineError } from '../shared/errors.ts';
import type {
  ChatCompletionChunk, ChatCompletionParams, ChatEngine, CompletionOptions, CompletionStats, EngineModel, FinishReason, ToolCallDelta, Usage,
} from './api.ts';
import { connectError, httpError, streamError, type Probe, type RemoteContext } from './remote-errors.ts';
import { readSSE } from './sse.ts';

export interface RemoteEngineConfig {
  /** the server: `http://host:8080`, `http://host:8080/v1`, trailing slashes and a missing scheme are fine */
  baseUrl: string;
  /** sent as `Authorization: Bearer …` */
  apiKey?: string;
  /** the model to chat with (an id from listModels); llama-server alone serves one and ignores it */
  model?: string;
}

/** `host:8080`, `http://host:8080/`, `…/v1/`, `…/v1/chat/completions` → `http://host:8080/v1`. */
export function normaliseBaseUrl(input: string): string {
  let s = input.trim();
  if (!s) throw new EngineError('BAD_ARGUMENT', 'Enter the server\'s address, e.g. http://192.168.1.20:8080.');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `http://${s}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new EngineError('BAD_ARGUMENT', `"${input}" is not a server address; enter one like http://192.168.1.20:8080.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EngineError('BAD_ARGUMENT', `"${input}" is not an http(s) address; enter one like http://192.168.1.20:8080.`);
  }
  let path = url.pathname.replace(/\/+$/, '').replace(/\/(chat\/completions|completions|models)$/, '');
  if (!/\/v1$/.test(path)) path += '/v1';
  return `${url.origin}${path}`;
}

/** llama-server's per-answer figures (the last chunk's `timings`). */
interface Timings {
  cache_n?: number;
  prompt_n?: number;
  prompt_ms?: number;
  prompt_per_second?: number;
  predicted_n?: number;
  predicted_ms?: number;
  predicted_per_second?: number;
}

interface WireChunk {
  id?: string;
  model?: string;
  created?: number;
  choices?: { index?: number; delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: ToolCallDelta[] | null }; finish_reason?: string | null }[];
  usage?: Partial<Usage> & { prompt_tokens_details?: { cached_tokens?: number } } | null;
  timings?: Timings;
  error?: unknown;
}

const LIST_TIMEOUT_MS = 15_000;
const PROBE_TIMEOUT_MS = 5_000;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export class RemoteEngine implements ChatEngine {
  readonly kind = 'remote' as const;
  /** the normalised base URL, ending in /v1 */
  readonly baseUrl: string;
  readonly model: string;
  private readonly apiKey: string;

  constructor(config: RemoteEngineConfig) {
    this.baseUrl = normaliseBaseUrl(config.baseUrl);
    this.apiKey = config.apiKey?.trim() ?? '';
    this.model = config.model ?? '';
  }

  readonly chat = {
    completions: {
      create: (params: ChatCompletionParams, opts: CompletionOptions = {}): AsyncIterable<ChatCompletionChunk> =>
        this.stream(params, opts.signal),
    },
  };

  /** GET /v1/models: what the server offers. */
  async listModels(signal?: AbortSignal): Promise<EngineModel[]> {
    const timeout = AbortSignal.timeout(LIST_TIMEOUT_MS);
    const res = await this.send(`${this.baseUrl}/models`, {
      headers: this.headers(false), signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    }, timeout);
    const body = await res.json().catch(() => null) as { data?: unknown } | null;
    if (!body || !Array.isArray(body.data)) {
      throw new EngineError('REMOTE_FAILED', `${this.baseUrl}/models did not answer with a model list: is this an OpenAI-compatible API (usually ending in /v1)?`);
    }
    return body.data
      .filter((m): m is { id: string } => typeof (m as { id?: unknown } | null)?.id === 'string')
      // llama-server lists a model by its GGUF's path unless given --alias: people know it by the file name
      .map((m) => ({ id: m.id, name: /^([A-Za-z]:)?[\\/]/.test(m.id) ? m.id.split(/[\\/]/).pop() || m.id : m.id }));
  }

  /**
   * Whether the server's chat template reads enable_thinking, so the composer can offer the Think
   * toggle: llama-server (and cli serve) show the template at GET /props, beside the /v1 API. Other
   * servers have no such route: false, and their default applies.
   */
  async templateReadsThinking(signal?: AbortSignal): Promise<boolean> {
    const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    try {
      const res = await fetch(`${this.baseUrl.replace(/\/v1$/, '')}/props`, {
        headers: this.headers(false), signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!res.ok) return false;
      const body = await res.json() as { chat_template?: unknown } | null;
      return typeof body?.chat_template === 'string' && body.chat_template.includes('enable_thinking');
    } catch {
      return false;
    }
  }

  private ctx(): RemoteContext {
    return { base: this.baseUrl, model: this.model || undefined, hasKey: this.apiKey !== '' };
  }

  /** `chat`: the streamed POST; else a GET (Accept alone is CORS-safelisted: no preflight without a key). */
  private headers(chat: boolean): Record<string, string> {
    return {
      Accept: chat ? 'text/event-stream' : 'application/json',
      ...(chat ? { 'Content-Type': 'application/json' } : {}),
      ...(this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {}),
    };
  }

  /** fetch with every failure as an EngineError; an abort by the caller stays an AbortError. */
  private async send(url: string, init: RequestInit, timeout?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if (timeout?.aborted) {
        throw new EngineError('REMOTE_UNREACHABLE', `${this.baseUrl} did not answer within ${LIST_TIMEOUT_MS / 1000} s. Check the address and that the server is running.`, { cause: e });
      }
      if (init.signal?.aborted) throw e;
      throw connectError(e, this.ctx(), await this.probe());
    }
    if (!res.ok) throw httpError(res.status, await res.text().catch(() => ''), url, this.ctx());
    return res;
  }

  /** See connectError: is the server up although the request failed? */
  private async probe(): Promise<Probe> {
    if (!(globalThis as { location?: unknown }).location) return 'down'; // no CORS outside a browser
    const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    try {
      await fetch(`${this.baseUrl}/models`, { signal });
      return 'cors-ok';
    } catch { /* not readable, or down */ }
    try {
      await fetch(`${this.baseUrl}/models`, { mode: 'no-cors', signal });
      return 'opaque';
    } catch {
      return 'down';
    }
  }

  private requestBody(params: ChatCompletionParams): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.model,
      // tool fields as OpenAI's (tool_calls on assistant turns, tool_call_id / name on tool turns)
      messages: params.messages.map((m) => ({
        role: m.role, content: m.content,
        ...(m.reasoning_content ? { reasoning_content: m.reasoning_content } : {}),
        ...(m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}),
        ...(m.tool_call_id !== undefined ? { tool_call_id: m.tool_call_id } : {}),
        ...(m.name !== undefined ? { name: m.name } : {}),
      })),
      stream: true,
      stream_options: { include_usage: true },
    };
    const keys = ['temperature', 'top_p', 'top_k', 'min_p', 'max_tokens', 'stop', 'seed', 'repeat_penalty',
      'frequency_penalty', 'presence_penalty', 'chat_template_kwargs', 'tools', 'tool_choice',
      // structured output: OpenAI's response_format; llama-server (and cli serve) also take grammar and json_schema
      'response_format', 'grammar', 'json_schema'] as const;
    for (const k of keys) if (params[k] !== undefined) body[k] = params[k];
    return body;
  }

  private async *stream(params: ChatCompletionParams, signal?: AbortSignal): AsyncGenerator<ChatCompletionChunk> {
    if (!this.model) throw new EngineError('BAD_ARGUMENT', `No model is chosen for ${this.baseUrl}: connect and pick one of the models it lists.`);
    if (!Array.isArray(params?.messages) || params.messages.length === 0) {
      throw new EngineError('BAD_ARGUMENT', 'A chat request needs at least one message.');
    }
    const t0 = performance.now();
    let id = `chatcmpl-remote-${Date.now().toString(36)}`;
    let model = this.model;
    let created = Math.floor(Date.now() / 1000);
    let pieces = 0;
    let firstAt = 0;
    let lastAt = 0;
    let finish: FinishReason | null = null;
    let usage: WireChunk['usage'] = null;
    let timings: Timings | undefined;
    const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], reason: FinishReason | null): ChatCompletionChunk => (
      { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: reason }] });
    const last = (reason: FinishReason): ChatCompletionChunk => {
      const stats = statsOf({ timings, usage, pieces, ttft: firstAt ? firstAt - t0 : 0, decodeMs: lastAt - firstAt });
      const { promptTokens: p, generatedTokens: g } = stats;
      return { ...chunk({}, reason), usage: { prompt_tokens: p, completion_tokens: g, total_tokens: p + g }, stats };
    };

    let res: Response;
    try {
      res = await this.send(`${this.baseUrl}/chat/completions`, {
        method: 'POST', headers: this.headers(true), body: JSON.stringify(this.requestBody(params)), signal,
      });
    } catch (e) {
      if (signal?.aborted) { yield last('abort'); return; }
      throw e;
    }
    const type = res.headers.get('content-type') ?? '';
    if (!res.body || (type && !/event-stream/i.test(type))) {
      res.body?.cancel().catch(() => {});
      throw new EngineError('REMOTE_FAILED', `${this.baseUrl} answered the chat with ${type || 'nothing'} instead of an event stream: it does not stream chat completions, which this app needs.`);
    }

    let done = false;
    try {
      for await (const ev of readSSE(res.body)) {
        if (ev.data === '[DONE]') { done = true; break; }
        let wire: WireChunk;
        try {
          wire = JSON.parse(ev.data) as WireChunk;
        } catch {
          throw streamError(this.ctx(), { serverSaid: `it sent something that is not JSON (${ev.data.slice(0, 80)})` });
        }
        if (ev.event === 'error' || wire.error !== undefined) {
          const e = wire.error as { message?: unknown } | string | undefined;
          throw streamError(this.ctx(), { serverSaid: typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : ev.data });
        }
        if (typeof wire.id === 'string') id = wire.id;
        if (typeof wire.model === 'string' && wire.model) model = wire.model;
        if (typeof wire.created === 'number') created = wire.created;
        if (wire.usage) usage = wire.usage;
        if (wire.timings) timings = wire.timings;
        const choice = wire.choices?.find((c) => (c.index ?? 0) === 0);
        const content = choice?.delta?.content || undefined;
        const reasoning = choice?.delta?.reasoning_content || undefined;
        const calls = choice?.delta?.tool_calls?.length ? choice.delta.tool_calls : undefined;
        if (content || reasoning || calls) {
          lastAt = performance.now();
          if (!firstAt) firstAt = lastAt;
          pieces++;
          yield chunk({ ...(content ? { content } : {}), ...(reasoning ? { reasoning_content: reasoning } : {}), ...(calls ? { tool_calls: calls } : {}) }, null);
        }
        if (choice?.finish_reason) finish = choice.finish_reason === 'length' ? 'length' : choice.finish_reason === 'tool_calls' ? 'tool_calls' : 'stop';
      }
    } catch (e) {
      // stopped while waiting for the usage after the finish: the answer itself was complete
      if (signal?.aborted) { yield last(finish ?? 'abort'); return; }
      if (e instanceof EngineError) throw e;
      throw streamError(this.ctx(), { cause: e });
    }
    if (done || finish !== null) yield last(finish ?? 'stop');
    else if (signal?.aborted) yield last('abort');
    else throw streamError(this.ctx(), {});
  }
}

/** llama-server's timings when it sent them; else usage (or the pieces counted) over the client's clock. */
function statsOf(a: { timings?: Timings; usage: WireChunk['usage']; pieces: number; ttft: number; decodeMs: number }): CompletionStats {
  // threads: the server's own business (0 = not known here)
  const base = { timeToFirstTokenMs: a.ttft, backend: 'remote' as const, threads: 0 };
  const t = a.timings;
  if (t && t.prompt_n !== undefined) {
    return {
      ...base,
      promptTokens: num(t.prompt_n) + num(t.cache_n),
      prefilledTokens: num(t.prompt_n),
      generatedTokens: num(t.predicted_n),
      prefillTokensPerSec: num(t.prompt_per_second),
      decodeTokensPerSec: num(t.predicted_per_second),
    };
  }
  const promptTokens = num(a.usage?.prompt_tokens);
  const generated = a.usage?.completion_tokens !== undefined ? num(a.usage.completion_tokens) : a.pieces;
  return {
    ...base,
    promptTokens,
    prefilledTokens: promptTokens - num(a.usage?.prompt_tokens_details?.cached_tokens),
    generatedTokens: generated,
    // the client's clock includes the network both ways: a lower bound on the server's speed
    prefillTokensPerSec: a.ttft > 0 ? promptTokens / (a.ttft / 1000) : 0,
    decodeTokensPerSec: generated > 1 && a.decodeMs > 0 ? (generated - 1) / (a.decodeMs / 1000) : 0,
  };
}
