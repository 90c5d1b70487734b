// One request's answer, as OpenAI wire objects: chat (through the worker's chatCompletionChunks,
// so prompts, reasoning split and stop strings are the app's) and text completion (the prompt
// continued as is). Each yields the objects of a stream; `collect` folds them into one response.
import { randomUUID } from 'node:crypto';
import type { GenerationStats } from '../engine/session.ts';
import { EngineError } from '../shared/errors.ts';
import type { ChatCompletionDelta, ToolCall, Usage } from '../worker/api.ts';
import { chatCompletionChunks, eventLoopBreather, generateOptions, usage, type ChatTarget } from '../worker/chat.ts';
import type { ChatRequest, SamplingRequest, TextRequest } from './params.ts';

export interface ServedModel {
  /** the name /v1/models lists and responses carry */
  id: string;
  target: ChatTarget;
  nCtx: number;
  vocabSize: number;
  /** seconds since the epoch, when it was loaded */
  created: number;
}

/** llama-server's `timings` object, so clients that read it (our remote engine) get the same stats. */
export interface Timings {
  cache_n: number;
  prompt_n: number;
  prompt_ms: number;
  prompt_per_token_ms: number;
  prompt_per_second: number;
  predicted_n: number;
  predicted_ms: number;
  predicted_per_token_ms: number;
  predicted_per_second: number;
}

export function timings(s: GenerationStats): Timings {
  return {
    cache_n: s.promptTokens - s.prefilledTokens,
    prompt_n: s.prefilledTokens, prompt_ms: s.prefillMs,
    prompt_per_token_ms: s.prefilledTokens ? s.prefillMs / s.prefilledTokens : 0,
    prompt_per_second: s.prefillTokensPerSec,
    predicted_n: s.generatedTokens, predicted_ms: s.decodeMs,
    predicted_per_token_ms: s.generatedTokens > 1 ? s.decodeMs / (s.generatedTokens - 1) : 0,
    predicted_per_second: s.decodeTokensPerSec,
  };
}

/** What the engine produced, before it is put in wire form. */
type Event =
  | { type: 'delta'; delta: ChatCompletionDelta }
  | { type: 'done'; finish: 'stop' | 'length' | 'tool_calls'; usage: Usage; timings: Timings };

/** Without max_tokens the answer may run to the end of the context (llama-server's n_predict -1). */
const withDefaults = (p: SamplingRequest, m: ServedModel): SamplingRequest => ({ ...p, max_tokens: p.max_tokens ?? m.nCtx });

async function* chatEvents(m: ServedModel, req: ChatRequest, signal: AbortSignal): AsyncGenerator<Event> {
  let stats: GenerationStats | undefined;
  const chunks = chatCompletionChunks(m.target, '', { ...withDefaults(req.params, m), messages: req.messages }, signal, (s) => { stats = s; });
  for await (const c of chunks) {
    const finish = c.choices[0].finish_reason;
    if (finish === null) yield { type: 'delta', delta: c.choices[0].delta };
    else if (finish !== 'abort') yield { type: 'done', finish, usage: c.usage!, timings: timings(stats!) };
  }
}

async function* textEvents(m: ServedModel, req: TextRequest, signal: AbortSignal): AsyncGenerator<Event> {
  const { session } = m.target;
  // as llama-server: BOS where the vocabulary adds one, special-token text parsed; token ids as given
  let ids: number[];
  if (typeof req.prompt === 'string') {
    ids = session.promptIds(req.prompt, true);
  } else {
    const bad = req.prompt.find((t) => t >= m.vocabSize);
    if (bad !== undefined) throw new EngineError('BAD_ARGUMENT', `Token id ${bad} is outside the vocabulary (${m.vocabSize} tokens).`);
    ids = req.prompt;
  }
  const breathe = eventLoopBreather();
  try {
    for await (const ev of session.generate(ids, generateOptions(withDefaults(req.params, m), signal))) {
      await breathe();
      if (ev.type === 'token') yield { type: 'delta', delta: { content: ev.text } };
      else if (ev.stats.finishReason !== 'abort') {
        yield { type: 'done', finish: ev.stats.finishReason, usage: usage(ev.stats), timings: timings(ev.stats) };
      }
    }
  } finally {
    breathe.close();
  }
}

const now = () => Math.floor(Date.now() / 1000);

/** Chat answer as chat.completion.chunk objects, with llama-server's ending: finish chunk, usage chunk, timings on the last. */
export async function* chatStream(m: ServedModel, req: ChatRequest, signal: AbortSignal): AsyncGenerator<object> {
  const head = { id: `chatcmpl-${randomUUID()}`, object: 'chat.completion.chunk', model: m.id };
  for await (const ev of chatEvents(m, req, signal)) {
    if (ev.type === 'delta') {
      yield { ...head, created: now(), choices: [{ index: 0, delta: ev.delta, finish_reason: null }] };
      continue;
    }
    const finish = { ...head, created: now(), choices: [{ index: 0, delta: {}, finish_reason: ev.finish }] };
    if (!req.includeUsage) { yield { ...finish, timings: ev.timings }; continue; }
    yield finish;
    yield { ...head, created: now(), choices: [], usage: ev.usage, timings: ev.timings };
  }
}

export async function chatResponse(m: ServedModel, req: ChatRequest, signal: AbortSignal): Promise<object | null> {
  let content = '', reasoning = '';
  const calls: ToolCall[] = [];
  for await (const ev of chatEvents(m, req, signal)) {
    if (ev.type === 'delta') {
      content += ev.delta.content ?? '';
      reasoning += ev.delta.reasoning_content ?? '';
      for (const t of ev.delta.tool_calls ?? []) {
        if (t.id !== undefined) calls[t.index] = { id: t.id, type: 'function', function: { name: t.function?.name ?? '', arguments: '' } };
        calls[t.index].function.arguments += t.function?.arguments ?? '';
      }
      continue;
    }
    // as OpenAI: content null when the answer is only calls
    const toolPart = calls.length ? { tool_calls: calls, ...(content.trim() ? {} : { content: null }) } : {};
    return {
      id: `chatcmpl-${randomUUID()}`, object: 'chat.completion', created: now(), model: m.id,
      choices: [{
        index: 0, finish_reason: ev.finish, logprobs: null,
        message: { role: 'assistant', content, ...(reasoning ? { reasoning_content: reasoning } : {}), ...toolPart },
      }],
      usage: ev.usage, timings: ev.timings,
    };
  }
  return null; // aborted: the client is gone
}

export async function* textStream(m: ServedModel, req: TextRequest, signal: AbortSignal): AsyncGenerator<object> {
  const head = { id: `cmpl-${randomUUID()}`, object: 'text_completion', model: m.id };
  const choice = (text: string, finish: string | null) => ({ text, index: 0, logprobs: null, finish_reason: finish });
  for await (const ev of textEvents(m, req, signal)) {
    if (ev.type === 'delta') {
      yield { ...head, created: now(), choices: [choice(ev.delta.content ?? '', null)] };
      continue;
    }
    const finish = { ...head, created: now(), choices: [choice('', ev.finish)] };
    if (!req.includeUsage) { yield { ...finish, timings: ev.timings }; continue; }
    yield finish;
    yield { ...head, created: now(), choices: [], usage: ev.usage, timings: ev.timings };
  }
}

export async function textResponse(m: ServedModel, req: TextRequest, signal: AbortSignal): Promise<object | null> {
  let text = '';
  for await (const ev of textEvents(m, req, signal)) {
    if (ev.type === 'delta') { text += ev.delta.content ?? ''; continue; }
    return {
      id: `cmpl-${randomUUID()}`, object: 'text_completion', created: now(), model: m.id,
      choices: [{ text, index: 0, logprobs: null, finish_reason: ev.finish }],
      usage: ev.usage, timings: ev.timings,
    };
  }
  return null;
}
