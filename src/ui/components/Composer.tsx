// Prompt box: Enter sends, Shift+Enter is a new line; Stop replaces Send while an answer streams.
// For models whose template can switch thinking off, a toggle for it sits next to Send. A note above
// says what the chat's options do to the answer (JSON output), or why Send is off.
import { useState } from 'react';
import type { ChatActions } from '../hooks/use-chat.ts';

export interface ThinkingToggle {
  on: boolean;
  set(on: boolean): void;
}

export function Composer({ chat, disabled, placeholder, thinking, note }: {
  chat: ChatActions; disabled: boolean; placeholder: string; thinking?: ThinkingToggle;
  /** blocked: Send is off for this reason (the typed text stays) */
  note?: { text: string; blocked: boolean };
}) {
  const [text, setText] = useState('');
  const off = disabled || !!note?.blocked;
  const send = (): void => {
    if (off || chat.generating || !text.trim()) return;
    chat.send(text);
    setText('');
  };
  return (<>
    {note && <div className={`composer-note ${note.blocked ? 'error' : 'muted'}`} role="status" data-testid="composer-note">{note.text}</div>}
    <form className="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
      <textarea data-testid="prompt-input" aria-label="Message" rows={2} value={text} placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); send(); }
        }} />
      {thinking && (
        <button type="button" className="thinking-toggle" data-testid="thinking-toggle" aria-pressed={thinking.on}
          disabled={chat.generating} onClick={() => thinking.set(!thinking.on)}
          title={thinking.on ? 'The model thinks before it answers: click to answer directly' : 'The model answers directly: click to let it think first'}>
          Think
        </button>
      )}
      {chat.generating
        ? <button type="button" className="danger" data-testid="stop-button" onClick={chat.stop} title="Stop (Esc)">Stop</button>
        : <button type="submit" className="primary" data-testid="send-button" disabled={off || !text.trim()} title={note?.blocked ? note.text : 'Send (Enter)'}>Send</button>}
    </form>
  </>);
}
