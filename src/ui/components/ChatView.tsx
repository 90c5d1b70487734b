// The message list of the active conversation; follows the stream while the user is at the bottom.
import { useEffect, useRef } from 'react';
import type { ActiveEngine } from '../hooks/active-engine.ts';
import type { ChatActions } from '../hooks/use-chat.ts';
import type { Conversation } from '../state/conversations.ts';
import { pendingCalls } from '../state/tool-calls.ts';
import { MessageView } from './MessageView.tsx';
import { ToolResultCard } from './ToolCallCard.tsx';

export function ChatView({ conversation, chat, active }: { conversation: Conversation | null; chat: ChatActions; active: ActiveEngine }) {
  const end = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const messages = conversation?.messages ?? [];
  const last = messages[messages.length - 1];

  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) end.current?.scrollIntoView({ block: 'end' });
  }, [last?.content, last?.tool_calls, messages.length]);

  if (messages.length === 0) {
    return (
      <div className="chat-view empty" ref={box}>
        <div className="welcome">
          {active.kind === 'local' ? (<>
            <h2>Chat with a model running on this device</h2>
            <p>{active.modelName ? `${active.modelName} is ready.` : 'Loading a model…'} Nothing leaves your browser.</p>
          </>) : active.kind === 'remote' ? (<>
            <h2>Chat with a model on a server</h2>
            <p>{active.engine ? `${active.modelName} on ${active.host} is ready. Your messages are sent to that server.`
              : 'Connect to a server in the Engine panel.'}</p>
          </>) : (<>
            <h2>Chat with WebLLM</h2>
            <p>{active.engine ? `${active.modelName} is ready.` : 'Set WebLLM up in the Engine panel.'}</p>
          </>)}
          <p className="hint">Enter sends · Shift+Enter for a new line · Esc stops</p>
        </div>
      </div>
    );
  }
  return (
    <div className="chat-view" ref={box} aria-live="polite">
      {messages.map((m, i) => (m.role === 'tool' ? <ToolResultCard key={m.id} item={m} /> : (
        <MessageView key={m.id} item={m}
          streaming={chat.generating && m === last && m.role === 'assistant'}
          busy={chat.generating}
          canRegenerate={m.role === 'assistant' && m === last}
          onRegenerate={chat.regenerate}
          onEdit={(text) => chat.editAndResend(m.id, text)}
          pending={pendingCalls(messages, i)} canAnswer={!!active.engine}
          onToolResult={(call, result) => chat.sendToolResult(m.id, call, result)} />
      )))}
      <div ref={end} />
    </div>
  );
}
