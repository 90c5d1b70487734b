// One chat message: folded thinking and markdown body, tool call cards, stats for answers, edit for
// questions, regenerate for the last answer.
import { useState } from 'react';
import type { ToolCall } from '../../worker/api.ts';
import type { ChatItem } from '../state/conversations.ts';
import { INTERRUPTED_TEXT } from '../state/cut-answer.ts';
import { JsonAnswer } from './JsonAnswer.tsx';
import { SafeMarkdown } from './Markdown.tsx';
import { StatsLine } from './StatsLine.tsx';
import { ThinkingBlock } from './ThinkingBlock.tsx';
import { ToolCallCard } from './ToolCallCard.tsx';

interface Props {
  item: ChatItem;
  streaming: boolean;
  busy: boolean;
  canRegenerate: boolean;
  onRegenerate(): void;
  onEdit(text: string): void;
  /** this answer's calls that wait for a result */
  pending?: readonly ToolCall[];
  /** a result can be sent now (an engine is ready) */
  canAnswer?: boolean;
  onToolResult?(call: ToolCall, result: string): void;
}

export function MessageView({ item, streaming, busy, canRegenerate, onRegenerate, onEdit, pending = [], canAnswer = false, onToolResult }: Props) {
  const [draft, setDraft] = useState<string | null>(null);
  const isUser = item.role === 'user';
  // the answer starts once the thinking is over, so thinking is live until the first content arrives
  const thinking = streaming && item.reasoning !== undefined && !item.content;
  if (draft !== null) {
    const save = (): void => { onEdit(draft); setDraft(null); };
    return (
      <div className="message message-user editing">
        <textarea aria-label="Edit message" value={draft} autoFocus onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); save(); }
            if (e.key === 'Escape') { e.stopPropagation(); setDraft(null); }
          }} />
        <div className="message-actions">
          <button type="button" className="primary" onClick={save} disabled={busy || !draft.trim()}>Save &amp; send</button>
          <button type="button" onClick={() => setDraft(null)}>Cancel</button>
        </div>
      </div>
    );
  }
  return (
    <div className={`message message-${item.role}`} data-testid={isUser ? 'message-user' : 'message-assistant'}
      aria-busy={streaming || undefined}>
      <div className="message-role">{isUser ? 'You' : item.model ?? 'Assistant'}</div>
      {/* outside .message-body: the answer's text never includes the thinking */}
      {item.reasoning !== undefined && <ThinkingBlock text={item.reasoning} thinking={thinking}
        unfinished={!streaming && !item.content && item.finish !== undefined && item.finish !== 'stop'} />}
      <div className="message-body">
        {item.content ? (item.format === 'json' ? <JsonAnswer text={item.content} streaming={streaming} /> : <SafeMarkdown text={item.content} />)
          : streaming && !thinking && !item.tool_calls ? <span className="typing">…</span> : null}
      </div>
      {item.tool_calls?.map((c, i, all) => (
        <ToolCallCard key={c.id} call={c} streaming={streaming && i === all.length - 1}
          waiting={pending.some((p) => p.id === c.id)} canSend={canAnswer && !busy}
          onResult={(r) => onToolResult?.(c, r)} />
      ))}
      {item.error && <div className="message-error" role="alert">{item.error}</div>}
      {item.interrupted && <div className="message-interrupted" data-testid="message-interrupted">{INTERRUPTED_TEXT}</div>}
      {item.stats && <StatsLine stats={item.stats} finish={item.finish} />}
      {!streaming && (
        <div className="message-actions">
          {isUser && <button type="button" onClick={() => setDraft(item.content)} disabled={busy}>Edit</button>}
          {canRegenerate && <button type="button" onClick={onRegenerate} disabled={busy}>Regenerate</button>}
        </div>
      )}
    </div>
  );
}
