// Streamed tool calls: OpenAI's delta.tool_calls pieces, gathered into an assistant message's
// tool_calls (by index: the first piece names the call, later ones carry argument fragments), and
// which calls of a turn still wait for the user's result. A call the user leaves unanswered (a new
// message instead of a result) gets a "not run" tool turn: OpenAI requires a tool message for every
// tool_call_id, and a template would otherwise show the model a call that never got an answer.
import type { ChatMessage, ToolCall, ToolCallDelta } from '../../worker/api.ts';
import { newId, type ChatItem } from './conversations.ts';

/** `calls` with the pieces added (a new array; calls are positioned by their index). */
export function addToolCallDeltas(calls: readonly ToolCall[], deltas: readonly ToolCallDelta[]): ToolCall[] {
  const out = [...calls];
  for (const d of deltas) {
    const prev = out[d.index];
    const call: ToolCall = prev
      ? { ...prev, function: { ...prev.function } }
      // a server that leaves the id out still gets one: the tool turn has to name the call it answers
      : { id: d.id || `call_${newId()}`, type: 'function', function: { name: '', arguments: '' } };
    // the name comes whole in the first piece; a server that repeats it does not double it
    if (d.function?.name && !call.function.name) call.function.name = d.function.name;
    if (d.function?.arguments) call.function.arguments += d.function.arguments;
    out[d.index] = call;
  }
  return out;
}

/** The calls without holes (a server that skipped an index). */
export const presentCalls = (calls: readonly (ToolCall | undefined)[]): ToolCall[] => calls.filter((c): c is ToolCall => !!c);

/** The arguments pretty-printed when they parse as JSON; null while (or when) they do not. */
export function prettyArguments(args: string): string | null {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return null;
  }
}

/**
 * The calls of `messages[i]` that wait for a result: only while that turn is the chat's last but for
 * its tool results (a new question after it records the rest as not run, see notRunTurns).
 */
export function pendingCalls(messages: readonly ChatItem[], i: number): ToolCall[] {
  const m = messages[i];
  if (m?.role !== 'assistant' || !m.tool_calls?.length) return [];
  const after = messages.slice(i + 1);
  if (after.some((x) => x.role !== 'tool')) return [];
  const answered = new Set(after.map((x) => x.tool_call_id));
  return m.tool_calls.filter((c) => !answered.has(c.id));
}

/** The calls that wait for a result in the chat now: those of its last answer, while only tool turns follow it. */
export function waitingCalls(messages: readonly ChatItem[]): ToolCall[] {
  return pendingCalls(messages, messages.findLastIndex((m) => m.role !== 'tool'));
}

/** What the model reads for a call the user did not answer. */
export const NOT_RUN_RESULT = 'Not run: the user sent a new message instead of this call\'s result.';

/** Tool turns recording `calls` as not run: they go in before a message the user sends instead of results. */
export function notRunTurns(calls: readonly ToolCall[], updatedAt = Date.now()): ChatItem[] {
  return calls.map((c) => ({ id: newId(), role: 'tool', content: NOT_RUN_RESULT, tool_call_id: c.id, name: c.function.name, notRun: true, updatedAt }));
}

/**
 * The request's messages with every call answered: a call with no tool turn before the next message
 * (a chat saved before unanswered calls were recorded) gets a "not run" one right after the turn's
 * own results. A request whose last turn makes calls keeps them open (the model is not asked then).
 */
export function answerEveryCall(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let open: ToolCall[] = [];
  const close = (): void => {
    for (const c of open) out.push({ role: 'tool', content: NOT_RUN_RESULT, tool_call_id: c.id, name: c.function.name });
    open = [];
  };
  for (const m of messages) {
    if (m.role === 'tool') open = open.filter((c) => c.id !== m.tool_call_id);
    else close();
    out.push(m);
    if (m.role === 'assistant' && m.tool_calls?.length) open = [...m.tool_calls];
  }
  return out;
}
