import type { Conversations } from '../hooks/use-conversations.ts';

export function ConversationList({ conversations, onNew, disabled }: { conversations: Conversations; onNew(): void; disabled: boolean }) {
  const { list, active, select, remove } = conversations;
  return (
    <nav className="conversations" aria-label="Conversations">
      <button type="button" className="primary new-chat" onClick={onNew} disabled={disabled}>+ New chat</button>
      <ul>
        {list.map((c) => (
          <li key={c.id} className={c.id === active?.id ? 'active' : undefined}>
            <button type="button" className="conv-title" onClick={() => select(c.id)} disabled={disabled}
              aria-current={c.id === active?.id || undefined} title={c.title}>{c.title}</button>
            <button type="button" className="icon" aria-label={`Delete chat ${c.title}`} disabled={disabled}
              onClick={() => { if (confirm(`Delete the chat “${c.title}”?`)) remove(c.id); }}>×</button>
          </li>
        ))}
      </ul>
      {list.length === 0 && <p className="muted">No chats yet.</p>}
    </nav>
  );
}
