// Conversations persisted in IndexedDB (idb-keyval, in a database of their own so clearing
// models never touches chats). One record per conversation; a save merges with what another tab
// stored (conversation-merge.ts) and tells the other tabs.
import { createStore, del, get, update, values } from 'idb-keyval';
import type { CompletionStats, FinishReason, ToolCall } from '../../worker/api.ts';
import { postTabMessage } from '../../worker/tab-messages.ts';
import { mergeConversation } from './conversation-merge.ts';
import type { JsonOutput } from './json-output.ts';
import type { ToolsOption } from './tool-options.ts';

export interface ChatItem {
  id: string;
  /** 'tool': the user's result for one of the previous answer's tool calls */
  role: 'user' | 'assistant' | 'tool';
  /** the answer (for assistants, without the thinking; '' when it only calls tools); a tool turn: the result */
  content: string;
  /** assistant only: the model's thinking, shown folded and sent back as reasoning_content */
  reasoning?: string;
  /** assistant only */
  stats?: CompletionStats;
  finish?: FinishReason;
  model?: string;
  error?: string;
  /** when this message was last changed (ms); the newer copy wins when two tabs saved it */
  updatedAt?: number;
  /** assistant only: the answer was cut off because the engine worker died ('engine-stopped'); content is what had arrived */
  interrupted?: 'engine-stopped';
  /** assistant only: asked for with the chat's JSON output option on, so shown as formatted JSON */
  format?: 'json';
  /** assistant only: the functions it called (gathered from the streamed delta.tool_calls) */
  tool_calls?: ToolCall[];
  /** tool only: the id of the call it answers */
  tool_call_id?: string;
  /** tool only: the called function's name */
  name?: string;
  /** tool only: the user sent a new message instead of a result; content says so to the model (tool-calls.ts) */
  notRun?: true;
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: ChatItem[];
  /** ids of messages removed on purpose (regenerate, edit and resend): another tab's older copy must not restore them */
  removed?: string[];
  /** this chat's JSON output option (json-output.ts) */
  jsonOutput?: JsonOutput;
  /** this chat's tools and tool_choice (tool-options.ts) */
  tools?: ToolsOption;
}

const store = createStore('edge-llm-chat', 'conversations');

export async function loadConversations(): Promise<Conversation[]> {
  const all = await values<Conversation>(store);
  return all.sort((a, b) => b.updatedAt - a.updatedAt);
}

/** Merges `c` into the stored record in one transaction; resolves with what is stored now. */
export async function saveConversation(c: Conversation): Promise<Conversation> {
  let merged = c;
  await update<Conversation>(c.id, (stored) => (merged = mergeConversation(stored, c)), store);
  postTabMessage({ type: 'conversations-changed', id: c.id });
  return merged;
}

export async function deleteConversation(id: string): Promise<void> {
  await del(id, store);
  postTabMessage({ type: 'conversations-changed', id, deleted: true });
}

export const getConversation = (id: string): Promise<Conversation | undefined> => get(id, store);

export function newId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function newConversation(): Conversation {
  const now = Date.now();
  return { id: newId(), title: 'New chat', createdAt: now, updatedAt: now, messages: [] };
}

export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 48 ? `${line.slice(0, 47)}…` : line || 'New chat';
}
