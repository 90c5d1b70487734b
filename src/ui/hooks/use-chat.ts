// Sending, streaming, stopping, regenerating and editing messages of the active conversation, with
// whichever engine is active (this device's worker, a remote server, WebLLM): they stream alike.
// With the chat's Tools option on, answers may call functions: the user sends each call's result
// (a tool turn), and once every call of the turn has one the model is asked again; a message sent
// instead records the calls still waiting as not run, so the model never sees a call without an answer.
import { useCallback, useRef, useState } from 'react';
import type { ChatCompletionParams, ChatMessage, ToolCall } from '../../worker/api.ts';
import { newConversation, newId, titleFrom, type ChatItem, type Conversation } from '../state/conversations.ts';
import { endedByError } from '../state/cut-answer.ts';
import { checkJsonOutput } from '../state/json-output.ts';
import { addToolCallDeltas, answerEveryCall, notRunTurns, pendingCalls, presentCalls, waitingCalls } from '../state/tool-calls.ts';
import { checkToolsOption } from '../state/tool-options.ts';
import type { Settings } from '../state/settings.ts';
import type { ActiveEngine } from './active-engine.ts';

export interface ChatActions {
  generating: boolean;
  send(text: string): void;
  stop(): void;
  regenerate(): void;
  editAndResend(messageId: string, text: string): void;
  /** the user's result for a call of the answer `messageId`: a tool turn; the last one asks the model again */
  sendToolResult(messageId: string, call: ToolCall, result: string): void;
}

interface Deps {
  conversation: Conversation | null;
  commit(c: Conversation, persist: boolean): void;
  select(id: string): void;
  /** marks the conversation an answer streams into (use-conversations.ts) */
  streaming?(id: string | null): void;
  settings: Settings;
  active: ActiveEngine;
}

type ToolParams = Pick<ChatCompletionParams, 'tools' | 'tool_choice'>;

/** One stored message as the engine takes it. */
function toMessage(m: ChatItem): ChatMessage {
  if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_id: m.tool_call_id ?? '', ...(m.name ? { name: m.name } : {}) };
  // Past thinking goes back as reasoning_content; the template decides whether to show it (Qwen3 drops it).
  return {
    role: m.role, content: m.content,
    ...(m.role === 'assistant' && m.reasoning ? { reasoning_content: m.reasoning } : {}),
    ...(m.role === 'assistant' && m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}),
  };
}

function requestParams(settings: Settings, history: ChatItem[], thinkingToggle: boolean,
  responseFormat: ChatCompletionParams['response_format'], tools: ToolParams | null): ChatCompletionParams {
  const messages: ChatMessage[] = answerEveryCall(history.map(toMessage));
  if (settings.systemPrompt.trim()) messages.unshift({ role: 'system', content: settings.systemPrompt });
  const seed = Number.parseInt(settings.seed, 10);
  return {
    messages, stream: true,
    // an unset sampler setting stays out of the request: the model's own default applies
    ...defined({ temperature: settings.temperature, top_p: settings.topP, top_k: settings.topK, min_p: settings.minP, repeat_penalty: settings.repeatPenalty }),
    max_tokens: settings.maxTokens, context_shift: settings.contextShift,
    ...(Number.isFinite(seed) ? { seed } : {}),
    // constrained output starts with the first token, where a thinking block would open: JSON answers do not think
    ...(thinkingToggle ? { chat_template_kwargs: { enable_thinking: settings.thinking && !responseFormat } } : {}),
    ...(responseFormat ? { response_format: responseFormat } : {}),
    ...(tools ?? {}),
  };
}

function defined<T extends Record<string, number | null>>(o: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as { [K in keyof T]?: number };
}

/** Records messages removed on purpose, so a merge with another tab's copy does not bring them back. */
function dropping(c: Conversation, gone: ChatItem[]): Conversation {
  return gone.length === 0 ? c : { ...c, removed: [...(c.removed ?? []), ...gone.map((m) => m.id)] };
}

export function useChat({ conversation, commit, select, streaming, settings, active }: Deps): ChatActions {
  const [generating, setGenerating] = useState(false);
  const ctrl = useRef<AbortController | null>(null);

  /** Answers the last user (or tool) message of `history`, streaming into a new assistant message. */
  const answer = useCallback(async (conv: Conversation, history: ChatItem[]) => {
    const { engine, modelName, thinkingToggle } = active;
    // the chat's JSON output option, as it is when the answer starts
    const json = conv.jsonOutput?.on ? checkJsonOutput(conv.jsonOutput, active.kind) : null;
    const tools = conv.tools?.on ? checkToolsOption(conv.tools, active.kind) : null;
    const base: ChatItem = { id: newId(), role: 'assistant', content: '', model: modelName, updatedAt: Date.now(), ...(json ? { format: 'json' } : {}) };
    const withReply = (reply: ChatItem): Conversation => ({ ...conv, messages: [...history, reply], updatedAt: Date.now() });
    streaming?.(conv.id);
    commit(withReply(base), true);
    const abort = new AbortController();
    ctrl.current = abort;
    setGenerating(true);
    let text = '';
    let reasoning = '';
    let calls: ToolCall[] = [];
    let final: ChatItem = base;
    const reply = (): ChatItem => {
      const present = presentCalls(calls);
      return { ...base, content: text, ...(reasoning ? { reasoning } : {}), ...(present.length ? { tool_calls: present } : {}) };
    };
    let scheduled = false;
    let done = false;
    // Repaint at most once per frame, however fast tokens arrive.
    const paint = (): void => {
      scheduled = false;
      if (!done) commit(withReply(reply()), false);
    };
    try {
      if (!engine) {
        throw new Error(active.kind === 'local' ? 'No model is loaded yet: pick one in the model picker.' : 'The engine is not ready: set it up in the Engine panel.');
      }
      // send is disabled while the schema is wrong; regenerate and edit say why here
      if (json && !json.ok) throw new Error(`JSON output: ${json.error}`);
      if (tools && !tools.ok) throw new Error(`Tools: ${tools.error}`);
      const params = requestParams(settings, history, thinkingToggle, json?.ok ? json.format : undefined,
        tools?.ok ? { tools: tools.tools, tool_choice: tools.choice } : null);
      for await (const chunk of engine.chat.completions.create(params, { signal: abort.signal })) {
        const { content, reasoning_content: thought, tool_calls: pieces } = chunk.choices[0].delta;
        if (content || thought || pieces?.length) {
          text += content ?? '';
          reasoning += thought ?? '';
          if (pieces?.length) calls = addToolCallDeltas(calls, pieces);
          if (!scheduled) { scheduled = true; requestAnimationFrame(paint); }
        }
        if (chunk.choices[0].finish_reason) final = { ...reply(), stats: chunk.stats, finish: chunk.choices[0].finish_reason };
      }
    } catch (e) {
      final = endedByError(reply(), e);
      active.onError?.(e);
    } finally {
      done = true;
      commit(withReply({ ...final, updatedAt: Date.now() }), true);
      streaming?.(null);
      ctrl.current = null;
      setGenerating(false);
    }
  }, [active, commit, settings, streaming]);

  const send = useCallback((text: string) => {
    if (generating || !text.trim()) return;
    const conv = conversation ?? newConversation();
    const now = Date.now();
    const user: ChatItem = { id: newId(), role: 'user', content: text, updatedAt: now };
    const title = conv.messages.length === 0 ? titleFrom(text) : conv.title;
    if (!conversation) select(conv.id);
    // calls left without a result are answered "not run", visibly, before the new message
    void answer({ ...conv, title }, [...conv.messages, ...notRunTurns(waitingCalls(conv.messages), now), user]);
  }, [answer, conversation, generating, select]);

  const stop = useCallback(() => ctrl.current?.abort(), []);

  const regenerate = useCallback(() => {
    if (generating || !conversation) return;
    const msgs = conversation.messages;
    // the answer to the last question, or to the last tool results
    const lastAsked = msgs.findLastIndex((m) => m.role !== 'assistant');
    if (lastAsked < 0) return;
    void answer(dropping(conversation, msgs.slice(lastAsked + 1)), msgs.slice(0, lastAsked + 1));
  }, [answer, conversation, generating]);

  const editAndResend = useCallback((messageId: string, text: string) => {
    if (generating || !conversation || !text.trim()) return;
    const i = conversation.messages.findIndex((m) => m.id === messageId);
    if (i < 0 || conversation.messages[i].role !== 'user') return;
    const edited: ChatItem = { ...conversation.messages[i], content: text, updatedAt: Date.now() };
    const title = i === 0 ? titleFrom(text) : conversation.title;
    void answer({ ...dropping(conversation, conversation.messages.slice(i + 1)), title }, [...conversation.messages.slice(0, i), edited]);
  }, [answer, conversation, generating]);

  const sendToolResult = useCallback((messageId: string, call: ToolCall, result: string) => {
    if (generating || !conversation) return;
    const msgs = conversation.messages;
    const i = msgs.findIndex((m) => m.id === messageId);
    const waiting = pendingCalls(msgs, i);
    if (!waiting.some((c) => c.id === call.id)) return;
    const turn: ChatItem = { id: newId(), role: 'tool', content: result, tool_call_id: call.id, name: call.function.name, updatedAt: Date.now() };
    const next: Conversation = { ...conversation, messages: [...msgs, turn], updatedAt: Date.now() };
    // every call of the turn answered: the model goes on with the results
    if (waiting.length === 1) void answer(next, next.messages);
    else commit(next, true);
  }, [answer, commit, conversation, generating]);

  return { generating, send, stop, regenerate, editAndResend, sendToolResult };
}
