// The conversation list: loaded from IndexedDB once, kept in React state, written back on commit,
// and kept in step with the other tabs (a save or delete there arrives on the tab channel).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { deleteConversation, getConversation, loadConversations, saveConversation, type Conversation } from '../state/conversations.ts';
import { keepNewerOptions } from '../state/conversation-merge.ts';
import { useTabMessages } from '../state/tab-channel.ts';

export interface Conversations {
  ready: boolean;
  list: Conversation[];
  active: Conversation | null;
  select(id: string | null): void;
  /** Updates a conversation in memory; `persist` also writes it to IndexedDB. */
  commit(c: Conversation, persist: boolean): void;
  remove(id: string): void;
  /** The conversation an answer is streaming into (null: none): other tabs' copies of it are not shown meanwhile. */
  streaming(id: string | null): void;
  error: string | null;
}

const put = (c: Conversation) => (l: Conversation[]): Conversation[] => (
  l.some((x) => x.id === c.id) ? l.map((x) => (x.id === c.id ? c : x)) : [c, ...l]);

export function useConversations(): Conversations {
  const [list, setList] = useState<Conversation[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const busy = useRef<string | null>(null);

  useEffect(() => {
    loadConversations()
      .then((all) => { setList(all); setActiveId(all[0]?.id ?? null); })
      .catch((e: unknown) => setError(`Saved chats could not be read: ${(e as Error).message}`))
      .finally(() => setReady(true));
  }, []);

  // A merged save may hold turns another tab added: show them, unless an answer is streaming into it.
  // An option typed since that save began (the schema box saves on every key) stays as it is now.
  const adopt = useCallback((c: Conversation) => {
    if (busy.current !== c.id) setList((l) => put(keepNewerOptions(c, l.find((x) => x.id === c.id)))(l));
  }, []);

  // Saves finish after later commits may have been shown: only the newest save of a chat is adopted
  // (an older one would put back a stale copy, e.g. an empty answer over the finished one).
  const saves = useRef(new Map<string, number>());
  const commit = useCallback((c: Conversation, persist: boolean) => {
    setList(put(c));
    if (persist) {
      const n = (saves.current.get(c.id) ?? 0) + 1;
      saves.current.set(c.id, n);
      saveConversation(c).then((saved) => { if (saves.current.get(c.id) === n) adopt(saved); })
        .catch((e: unknown) => setError(`The chat could not be saved: ${(e as Error).message}`));
    }
  }, [adopt]);

  const remove = useCallback((id: string) => {
    setList((l) => l.filter((x) => x.id !== id));
    setActiveId((a) => (a === id ? null : a));
    deleteConversation(id).catch((e: unknown) => setError(`The chat could not be deleted: ${(e as Error).message}`));
  }, []);

  useTabMessages((msg) => {
    if (msg.type !== 'conversations-changed' || msg.id === busy.current) return;
    if (msg.deleted) {
      setList((l) => l.filter((x) => x.id !== msg.id));
      return;
    }
    getConversation(msg.id).then((c) => { if (c) adopt(c); }).catch(() => {});
  });

  const streaming = useCallback((id: string | null) => { busy.current = id; }, []);
  const sorted = useMemo(() => [...list].sort((a, b) => b.updatedAt - a.updatedAt), [list]);
  const active = list.find((c) => c.id === activeId) ?? null;
  return { ready, list: sorted, active, select: setActiveId, commit, remove, streaming, error };
}
