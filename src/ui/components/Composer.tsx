// Prompt box: Enter sends, Shift+Enter is a new line; Stop replaces Send while an answer streams.
import { useState } from 'react';
import type { ChatActions } from '../hooks/use-chat.ts';

export function Composer({ chat, disabled, placeholder }: { chat: ChatActions; disabled: boolean; placeholder: string }) {
  const [text, setText] = useState('');
  const send = (): void => {
    if (disabled || chat.generating || !text.trim()) return;
    chat.send(text);
    setText('');
  };
  return (
    <form className="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
      <textarea data-testid="prompt-input" aria-label="Message" rows={2} value={text} placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); send(); }
        }} />
      {chat.generating
        ? <button type="button" className="danger" data-testid="stop-button" onClick={chat.stop} title="Stop (Esc)">Stop</button>
        : <button type="submit" className="primary" data-testid="send-button" disabled={disabled || !text.trim()} title="Send (Enter)">Send</button>}
    </form>
  );
}
