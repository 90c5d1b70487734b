// The conversation list: loaded from IndexedDB once, kept in React state, written back on commit.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { deleteConversation, loadConversations, saveConversation, type Conversation } from '../state/conversations.ts';

export interface Conversations {
  ready: boolean;
  list: Conversation[];
  active: Conversation | null;
  select(id: string | null): void;
  /** Updates a conversation in memory; `persist` also writes it to IndexedDB. */
  commit(c: Conversation, persist: boolean): void;
  remove(id: string): void;
  error: string | null;
}

export function useConversations(): Conversations {
  const [list, setList] = useState<Conversation[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    loadConversations()
      .then((all) => { setList(all); setActiveId(all[0]?.id ?? null); })
      .catch((e: unknown) => setError(`Saved chats could not be read: ${(e as Error).message}`))
      .finally(() => setReady(true));
  }, []);

  const commit = useCallback((c: Conversation, persist: boolean) => {
    setList((l) => (l.some((x) => x.id === c.id) ? l.map((x) => (x.id === c.id ? c : x)) : [c, ...l]));
    if (persist) saveConversation(c).catch((e: unknown) => setError(`The chat could not be saved: ${(e as Error).message}`));
  }, []);

  const remove = useCallback((id: string) => {
    setList((l) => l.filter((x) => x.id !== id));
    setActiveId((a) => (a === id ? null : a));
    deleteConversation(id).catch((e: unknown) => setError(`The chat could not be deleted: ${(e as Error).message}`));
  }, []);

  const sorted = useMemo(() => [...list].sort((a, b) => b.updatedAt - a.updatedAt), [list]);
  const active = list.find((c) => c.id === activeId) ?? null;
  return { ready, list: sorted, active, select: setActiveId, commit, remove, error };
}
