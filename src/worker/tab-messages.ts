// What the tabs of one origin tell each other on the BroadcastChannel "edge-llm": the worker that
// writes a model reports its progress and outcome (a tab that wanted the same download follows it
// instead of starting a second writer), and every tab refreshes its model list or chats when
// another one changed them. Messages from another build of the app may differ: anything that does
// not parse is ignored.
import type { TransferProgress } from './api.ts';

export const TAB_CHANNEL = 'edge-llm';

export type TabMessage =
  | { type: 'progress'; id: string; progress: TransferProgress }
  | { type: 'done'; id: string }
  | { type: 'failed'; id: string; code: string; message: string }
  | { type: 'deleted'; id: string }
  | { type: 'models-changed' }
  | { type: 'conversations-changed'; id: string; deleted?: boolean };

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

function isProgress(p: unknown): p is TransferProgress {
  const o = p as Partial<TransferProgress> | null;
  return typeof o === 'object' && o !== null && isNum(o.loaded) && isNum(o.total) && isNum(o.bytesPerSec) && isNum(o.etaSec);
}

export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'progress': return isStr(m.id) && isProgress(m.progress) ? { type: 'progress', id: m.id, progress: m.progress } : undefined;
    case 'done':
    case 'deleted': return isStr(m.id) ? { type: m.type, id: m.id } : undefined;
    case 'failed': return isStr(m.id) && isStr(m.code) && isStr(m.message) ? { type: 'failed', id: m.id, code: m.code, message: m.message } : undefined;
    case 'models-changed': return { type: 'models-changed' };
    case 'conversations-changed': return isStr(m.id) ? { type: 'conversations-changed', id: m.id, ...(m.deleted === true ? { deleted: true } : {}) } : undefined;
    default: return undefined;
  }
}

let sender: BroadcastChannel | null | undefined;

/** Tells the other tabs (and this tab's other listeners); a no-op where BroadcastChannel is missing. */
export function postTabMessage(msg: TabMessage): void {
  if (sender === undefined) {
    sender = typeof BroadcastChannel === 'function' ? new BroadcastChannel(TAB_CHANNEL) : null;
    (sender as { unref?: () => void } | null)?.unref?.(); // Node: an idle sender must not keep the process alive
  }
  sender?.postMessage(msg);
}

/** Calls `fn` with every valid message another channel posts; returns the unsubscribe. */
export function onTabMessage(fn: (msg: TabMessage) => void): () => void {
  if (typeof BroadcastChannel !== 'function') return () => {};
  const ch = new BroadcastChannel(TAB_CHANNEL);
  ch.onmessage = (e: MessageEvent) => {
    const msg = parseTabMessage(e.data);
    if (msg) fn(msg);
  };
  return () => ch.close();
}
