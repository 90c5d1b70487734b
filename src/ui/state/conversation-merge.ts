// Two tabs can write the same conversation: tab A answers while tab B, holding an older copy,
// adds a turn. Conversations are one IndexedDB record each, so a plain put is last-writer-wins
// and would drop A's turn. Instead every save merges with the stored record inside one readwrite
// transaction (conversations.ts), which IndexedDB runs one at a time across tabs, so no lock is
// needed: messages are matched by id, a message in both copies keeps the one changed last
// (`updatedAt`: a stale copy of A's answer never overwrites it), messages only this tab has go
// after the stored ones, and ids a tab removed on purpose (regenerate, edit and resend) are kept
// as tombstones in `removed` so that another tab's older copy cannot bring them back.
import type { ChatItem, Conversation } from './conversations.ts';
import { newerJsonOutput } from './json-output.ts';
import { newerToolsOption } from './tool-options.ts';

const changed = (m: ChatItem): number => m.updatedAt ?? 0;

export function mergeConversation(stored: Conversation | undefined, mine: Conversation): Conversation {
  if (!stored || stored.id !== mine.id) return mine;
  const removed = new Set([...(stored.removed ?? []), ...(mine.removed ?? [])]);
  const mineById = new Map(mine.messages.map((m) => [m.id, m]));
  const storedIds = new Set(stored.messages.map((m) => m.id));
  const newer = (s: ChatItem): ChatItem => {
    const m = mineById.get(s.id);
    return m && changed(m) >= changed(s) ? m : s;
  };
  const messages = [...stored.messages.map(newer), ...mine.messages.filter((m) => !storedIds.has(m.id))]
    .filter((m) => !removed.has(m.id));
  return {
    ...mine,
    createdAt: Math.min(stored.createdAt, mine.createdAt),
    updatedAt: Math.max(stored.updatedAt, mine.updatedAt),
    messages,
    ...(removed.size > 0 ? { removed: [...removed] } : {}),
    ...newerOptions(stored, mine),
  };
}

/** The chat's options are not messages: the copy changed last wins (an answer saved by one tab keeps the schema another tab typed). */
export function keepNewerOptions(c: Conversation, other: Conversation | undefined): Conversation {
  if (!other || other.id !== c.id) return c;
  return { ...c, ...newerOptions(c, other) };
}

/** Each option (JSON output, tools) from the copy that changed it last; absent where neither has it. */
function newerOptions(a: Conversation, b: Conversation): Pick<Conversation, 'jsonOutput' | 'tools'> {
  const jsonOutput = newerJsonOutput(a.jsonOutput, b.jsonOutput);
  const tools = newerToolsOption(a.tools, b.tools);
  return { ...(jsonOutput ? { jsonOutput } : {}), ...(tools ? { tools } : {}) };
}
