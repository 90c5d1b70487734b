// Maps the worker API's OpenAI-style parameters onto the engine (prompt building is engine/chat.ts)
// and runs one chat answer as chunks. Host-agnostic: the worker and `cli serve` (src/server) share it.
import type { TemplateChoice } from '../engine/chat-template.ts';
import { buildChatPrompt } from '../engine/chat.ts';
import { ReasoningSplitter, type SplitDelta } from '../engine/reasoning.ts';
import type { GenerateOptions, GenerationStats, Session } from '../engine/session.ts';
import {
  checkToolChoice, checkTools, controlMarkers, detectToolFormat, MarkerFilter, toolGrammar, ToolCallStream, ToolsError, type StreamDelta, type ToolCallDelta,
} from '../engine/tools/index.ts';
import type {
  ChatCompletionChunk, ChatCompletionDelta, ChatCompletionParams, CompletionStats, FinishReason, LoadedModelInfo, TokenLogprobInfo, Usage,
} from './api.ts';
import { logitBiasMap, logprobInfo, logprobsOption } from './logprobs.ts';

export function templateLabel(choice: TemplateChoice | null): LoadedModelInfo['template'] {
  if (!choice) return 'none';
  return choice.kind === 'model' ? 'model' : `${choice.kind}:${choice.name}`;
}

/**
 * OpenAI-style parameters → Session options; `template` is what the chat prompt adds: the template's
 * end-of-turn text and ids, and the tokens a context shift keeps.
 */
export function generateOptions(p: Omit<ChatCompletionParams, 'stream' | 'messages'>, signal: AbortSignal,
  template: { stop?: readonly string[]; stopIds?: readonly number[]; nKeep?: number } = {}): GenerateOptions {
  const { stop: templateStop = [], stopIds = [], nKeep } = template;
  const stop = p.stop === undefined ? [] : Array.isArray(p.stop) ? p.stop : [p.stop];
  return {
    signal,
    contextShift: p.context_shift ?? true,
    ...(nKeep !== undefined ? { nKeep } : {}),
    maxTokens: p.max_tokens ?? 256,
    stop: [...new Set([...stop, ...templateStop])].filter((s) => s.length > 0),
    ...(stopIds.length ? { stopIds } : {}),
    ...(p.response_format !== undefined ? { responseFormat: p.response_format } : {}),
    ...(p.grammar !== undefined ? { grammar: p.grammar } : {}),
    ...(p.json_schema !== undefined ? { jsonSchema: p.json_schema } : {}),
    ...(p.logprobs ? { logprobs: logprobsOption(p) } : {}),
    sampling: {
      logitBias: logitBiasMap(p.logit_bias),
      temperature: p.temperature,
      topP: p.top_p,
      topK: p.top_k,
      minP: p.min_p,
      seed: p.seed,
      repeatPenalty: p.repeat_penalty,
      frequencyPenalty: p.frequency_penalty,
      presencePenalty: p.presence_penalty,
    },
  };
}

/**
 * Generated text → OpenAI-style deltas: thinking as reasoning_content, the answer as content, the
 * role on the first one; null when a piece is held back (a tag may be starting).
 * `split` is off for plain continuation (story text has no thinking in it). `hide`: control-token
 * markers the text shows only for the tools parser (GenerateOptions.preservedIds), kept out of what is shown.
 */
export function deltaStream(opts: { split: boolean; startsInReasoning: boolean; tools?: ToolCallStream; hide?: readonly string[] }) {
  const splitter = opts.split ? new ReasoningSplitter({ startInReasoning: opts.startsInReasoning }) : null;
  const hide = opts.hide?.length ? { content: new MarkerFilter(opts.hide), reasoning: new MarkerFilter(opts.hide) } : null;
  let first = true;
  const delta = (d: SplitDelta, final: boolean): ChatCompletionDelta | null => {
    // the answer (not the thinking) may hold function calls: they come out as tool_calls
    let content = d.content;
    let reasoning = d.reasoning;
    let calls: ToolCallDelta[] = [];
    if (opts.tools) {
      const t: StreamDelta = opts.tools.push(content);
      if (final) { const f = opts.tools.flush(); t.content += f.content; t.tool_calls.push(...f.tool_calls); }
      ({ content, tool_calls: calls } = t);
    }
    if (hide) {
      content = hide.content.push(content) + (final ? hide.content.flush() : '');
      reasoning = hide.reasoning.push(reasoning) + (final ? hide.reasoning.flush() : '');
    }
    if (!reasoning && !content && !calls.length) return null;
    const out: ChatCompletionDelta = first ? { role: 'assistant' } : {};
    if (reasoning) out.reasoning_content = reasoning;
    if (content) out.content = content;
    if (calls.length) out.tool_calls = calls;
    first = false;
    return out;
  };
  return {
    push: (text: string): ChatCompletionDelta | null => delta(splitter ? splitter.push(text) : { reasoning: '', content: text }, false),
    flush: (): ChatCompletionDelta | null => (splitter || opts.tools || hide ? delta(splitter ? splitter.flush() : { reasoning: '', content: '' }, true) : null),
  };
}

/** What an answer runs on; `backend()` is read at the end (a GPU failure mid-answer may move the model to WASM). */
export interface ChatTarget {
  session: Session;
  template: TemplateChoice | null;
  /** the model name the chunks carry */
  model: string;
  backend(): Pick<CompletionStats, 'backend' | 'threads' | 'gpuFallback'>;
}

/**
 * One chat answer as OpenAI-style chunks: the role on the first, thinking as reasoning_content, and
 * a last one with finish_reason, usage and stats. Errors in the prompt (empty, too long) throw
 * before the first chunk. `onDone` gets the engine's raw timings (for llama.cpp-style `timings`).
 */
export async function* chatCompletionChunks(target: ChatTarget, id: string, params: Omit<ChatCompletionParams, 'stream'>,
  signal: AbortSignal, onDone?: (s: GenerationStats) => void): AsyncGenerator<ChatCompletionChunk> {
  const { session, template } = target;
  // logprobs of tokens whose text has not gone out yet (the reasoning splitter may hold a tag back)
  let pending: TokenLogprobInfo[] = [];
  const chunk = (delta: ChatCompletionDelta, finish: FinishReason | null): ChatCompletionChunk => {
    const lp = pending.length ? { logprobs: { content: pending } } : {};
    pending = [];
    return {
      id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: target.model,
      choices: [{ index: 0, delta, finish_reason: finish, ...lp }],
    };
  };
  // tools: checked here too (the worker API has no server in front); 'none' hides them from the model
  const tools = params.tools === undefined ? undefined : checkTools(params.tools);
  const toolChoice = checkToolChoice(params.tool_choice, tools);
  const offered = toolChoice !== 'none' && tools?.length ? tools : undefined;
  const { promptIds: ids, startsInReasoning, ...prompt } = buildChatPrompt(session.model, params.messages, template, {
    enableThinking: params.chat_template_kwargs?.enable_thinking, contextShift: params.context_shift ?? true, tools: offered,
  });
  const format = offered ? detectToolFormat(template && template.kind !== 'mlc' ? template.template : null) : null;
  const toolCalls = format ? new ToolCallStream(format) : undefined;
  // a marker that is a control token is shown to the parser only
  const markers = format ? controlMarkers(format, session.model.tokenizer) : { ids: [], texts: [] };
  const options = generateOptions(params, signal, prompt);
  if (markers.ids.length) options.preservedIds = markers.ids;
  const forced = format && offered ? toolGrammar(format, offered, toolChoice, startsInReasoning) : null;
  if (forced !== null) {
    if (options.grammar !== undefined || options.jsonSchema !== undefined || (options.responseFormat && options.responseFormat.type !== 'text')) {
      throw new ToolsError('tool_choice', `A forced tool call (tool_choice ${JSON.stringify(toolChoice)}) cannot be combined with grammar, json_schema or response_format.`);
    }
    options.grammar = forced;
  }
  const deltas = deltaStream({ split: template !== null, startsInReasoning, tools: toolCalls, hide: markers.texts });
  const breathe = eventLoopBreather();
  try {
    for await (const ev of session.generate(ids, options)) {
      await breathe();
      if (ev.type === 'token') {
        if (ev.logprobs) pending.push(...ev.logprobs.map((lp) => logprobInfo(session.model.tokenizer, lp)));
        const d = deltas.push(ev.text);
        if (d) yield chunk(d, null);
      } else {
        const d = deltas.flush();
        if (d || pending.length) yield chunk(d ?? {}, null);
        onDone?.(ev.stats);
        const { backend, threads, gpuFallback } = target.backend();
        // OpenAI: an answer that ended in calls finishes with 'tool_calls'
        const finish = ev.stats.finishReason === 'stop' && toolCalls?.callCount ? 'tool_calls' : ev.stats.finishReason;
        yield {
          ...chunk({}, finish), usage: usage(ev.stats),
          stats: { ...pickStats(ev.stats), backend, threads, ...(gpuFallback ? { gpuFallback } : {}) },
        };
      }
    }
  } finally {
    breathe.close();
  }
}

/**
 * The WASM backend computes without yielding to the event loop, so a decode loop made only of
 * resolved promises would never see an abort() message (or, in Node, a client hanging up). Every
 * ~16 ms this yields one macrotask: in a browser a MessageChannel hop (unlike setTimeout it is not
 * clamped to 4 ms); in Node setImmediate, which runs after the I/O phase (a MessagePort hop there
 * does not let socket events through).
 */
export function eventLoopBreather(intervalMs = 16): (() => Promise<void>) & { close(): void } {
  let last = performance.now();
  let channel: MessageChannel | undefined;
  const hop = typeof setImmediate === 'function'
    ? () => new Promise<void>((resolve) => setImmediate(resolve))
    : () => new Promise<void>((resolve) => {
      channel ??= new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  const breathe = async () => {
    if (performance.now() - last < intervalMs) return;
    await hop();
    last = performance.now();
  };
  // an open port keeps a Node process alive
  return Object.assign(breathe, { close: () => { channel?.port1.close(); channel?.port2.close(); } });
}

export function usage(s: GenerationStats): Usage {
  return { prompt_tokens: s.promptTokens, completion_tokens: s.generatedTokens, total_tokens: s.promptTokens + s.generatedTokens };
}

function pickStats(s: GenerationStats) {
  return {
    promptTokens: s.promptTokens, prefilledTokens: s.prefilledTokens, generatedTokens: s.generatedTokens,
    timeToFirstTokenMs: s.timeToFirstTokenMs, prefillTokensPerSec: s.prefillTokensPerSec,
    decodeTokensPerSec: s.decodeTokensPerSec,
    ...(s.contextShifts ? { contextShifts: s.contextShifts } : {}),
  };
}
