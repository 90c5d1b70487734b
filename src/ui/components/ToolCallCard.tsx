// A function call the model made, as a card: the name, the arguments (pretty-printed once they parse
// as JSON; raw while they stream or when they never do), and while the call waits for it, a box for
// the user's result. A tool turn (the result sent back, or "not run" when the user wrote a new
// message instead) is a small card of its own under the call.
import { useState } from 'react';
import type { ToolCall } from '../../worker/api.ts';
import type { ChatItem } from '../state/conversations.ts';
import { prettyArguments } from '../state/tool-calls.ts';

export function ToolCallCard({ call, streaming, waiting, canSend, onResult }: {
  call: ToolCall;
  /** its arguments are still arriving */
  streaming: boolean;
  /** no result sent for it yet, and the chat has not moved on */
  waiting: boolean;
  /** an engine is ready and nothing streams */
  canSend: boolean;
  onResult(result: string): void;
}) {
  const [result, setResult] = useState('');
  const pretty = streaming ? null : prettyArguments(call.function.arguments);
  return (
    <div className="tool-card" data-testid="tool-call" aria-busy={streaming || undefined}>
      <div className="tool-card-head">
        <span className="tool-card-kind">Calls</span>
        <code className="tool-name" data-testid="tool-call-name">{call.function.name || '…'}</code>
        {streaming && <span className="hint" data-testid="tool-call-streaming">streaming…</span>}
      </div>
      <pre className="tool-args" data-testid="tool-call-arguments"><code>{pretty ?? call.function.arguments}</code></pre>
      {!streaming && pretty === null && <div className="hint" data-testid="tool-call-incomplete">Not complete JSON: the answer ended before the arguments did.</div>}
      {waiting && !streaming && (
        <form className="tool-result-form" onSubmit={(e) => { e.preventDefault(); if (canSend) onResult(result); }}>
          <label className="field">
            <span>Result of {call.function.name}</span>
            <textarea data-testid="tool-result-input" rows={3} spellCheck={false} value={result}
              placeholder='What the function returned, e.g. {"temperature": 21}' onChange={(e) => setResult(e.target.value)} />
          </label>
          <button type="submit" className="primary" data-testid="tool-result-send" disabled={!canSend}>Send result</button>
        </form>
      )}
    </div>
  );
}

/** A tool turn: the result the user sent for a call, or the note that it was not run. */
export function ToolResultCard({ item }: { item: ChatItem }) {
  const pretty = item.notRun ? null : prettyArguments(item.content);
  return (
    <div className={`tool-result${item.notRun ? ' not-run' : ''}`} data-testid="message-tool" data-not-run={item.notRun || undefined}>
      <div className="tool-card-head">
        <span className="tool-card-kind">{item.notRun ? 'Not run' : 'Result'}</span>
        <code className="tool-name">{item.name ?? 'tool'}</code>
      </div>
      <pre className="tool-args" data-testid="tool-result-content"><code>{pretty ?? item.content}</code></pre>
    </div>
  );
}
