// Streamed tool calls: OpenAI's delta.tool_calls pieces, gathered into an assistant message's
// tool_calls (by index: the first piece names the call, later ones carry argument fragments), and
// which calls of a turn still wait for the user's result.
import type { ToolCall, ToolCallDelta } from '../../worker/api.ts';
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
 * its tool results (a new question after it leaves the rest unanswered).
 */
export function pendingCalls(messages: readonly ChatItem[], i: number): ToolCall[] {
  const m = messages[i];
  if (m?.role !== 'assistant' || !m.tool_calls?.length) return [];
  const after = messages.slice(i + 1);
  if (after.some((x) => x.role !== 'tool')) return [];
  const answered = new Set(after.map((x) => x.tool_call_id));
  return m.tool_calls.filter((c) => !answered.has(c.id));
}
