// Sending, streaming, stopping, regenerating and editing messages of the active conversation, with
// whichever engine is active (this device's worker, a remote server, WebLLM): they stream alike.
import { useCallback, useRef, useState } from 'react';
import type { ChatCompletionParams, ChatMessage } from '../../worker/api.ts';
import { newConversation, newId, titleFrom, type ChatItem, type Conversation } from '../state/conversations.ts';
import { endedByError } from '../state/cut-answer.ts';
import { checkJsonOutput } from '../state/json-output.ts';
import type { Settings } from '../state/settings.ts';
import type { ActiveEngine } from './active-engine.ts';

export interface ChatActions {
  generating: boolean;
  send(text: string): void;
  stop(): void;
  regenerate(): void;
  editAndResend(messageId: string, text: string): void;
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

function requestParams(settings: Settings, history: ChatItem[], thinkingToggle: boolean,
  responseFormat: ChatCompletionParams['response_format']): ChatCompletionParams {
  // Past thinking goes back as reasoning_content; the template decides whether to show it (Qwen3 drops it).
  const messages: ChatMessage[] = history.map((m) => (m.role === 'assistant' && m.reasoning
    ? { role: m.role, content: m.content, reasoning_content: m.reasoning }
    : { role: m.role, content: m.content }));
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

  /** Answers the last user message of `history`, streaming into a new assistant message. */
  const answer = useCallback(async (conv: Conversation, history: ChatItem[]) => {
    const { engine, modelName, thinkingToggle } = active;
    // the chat's JSON output option, as it is when the answer starts
    const json = conv.jsonOutput?.on ? checkJsonOutput(conv.jsonOutput, active.kind) : null;
    const base: ChatItem = { id: newId(), role: 'assistant', content: '', model: modelName, updatedAt: Date.now(), ...(json ? { format: 'json' } : {}) };
    const withReply = (reply: ChatItem): Conversation => ({ ...conv, messages: [...history, reply], updatedAt: Date.now() });
    streaming?.(conv.id);
    commit(withReply(base), true);
    const abort = new AbortController();
    ctrl.current = abort;
    setGenerating(true);
    let text = '';
    let reasoning = '';
    let final: ChatItem = base;
    const reply = (): ChatItem => ({ ...base, content: text, ...(reasoning ? { reasoning } : {}) });
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
      const params = requestParams(settings, history, thinkingToggle, json?.ok ? json.format : undefined);
      for await (const chunk of engine.chat.completions.create(params, { signal: abort.signal })) {
        const { content, reasoning_content: thought } = chunk.choices[0].delta;
        if (content || thought) {
          text += content ?? '';
          reasoning += thought ?? '';
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
    const user: ChatItem = { id: newId(), role: 'user', content: text, updatedAt: Date.now() };
    const title = conv.messages.length === 0 ? titleFrom(text) : conv.title;
    if (!conversation) select(conv.id);
    void answer({ ...conv, title }, [...conv.messages, user]);
  }, [answer, conversation, generating, select]);

  const stop = useCallback(() => ctrl.current?.abort(), []);

  const regenerate = useCallback(() => {
    if (generating || !conversation) return;
    const msgs = conversation.messages;
    const lastUser = msgs.map((m) => m.role).lastIndexOf('user');
    if (lastUser < 0) return;
    void answer(dropping(conversation, msgs.slice(lastUser + 1)), msgs.slice(0, lastUser + 1));
  }, [answer, conversation, generating]);

  const editAndResend = useCallback((messageId: string, text: string) => {
    if (generating || !conversation || !text.trim()) return;
    const i = conversation.messages.findIndex((m) => m.id === messageId);
    if (i < 0 || conversation.messages[i].role !== 'user') return;
    const edited: ChatItem = { ...conversation.messages[i], content: text, updatedAt: Date.now() };
    const title = i === 0 ? titleFrom(text) : conversation.title;
    void answer({ ...dropping(conversation, conversation.messages.slice(i + 1)), title }, [...conversation.messages.slice(0, i), edited]);
  }, [answer, conversation, generating]);

  return { generating, send, stop, regenerate, editAndResend };
}
