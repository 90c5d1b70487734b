// A model's thinking, folded by default: the summary says it is still thinking while the block
// streams; opening it shows the text (the <details> element keeps its own open state across repaints).
/** `unfinished`: the answer ended inside its thinking (token limit, stopped), so there is no answer. */
export function ThinkingBlock({ text, thinking, unfinished }: { text: string; thinking: boolean; unfinished: boolean }) {
  return (
    <details className="thinking" data-testid="thinking-block" aria-busy={thinking || undefined}>
      <summary data-testid="thinking-summary">
        {thinking ? <span className="thinking-live">Thinking…</span> : unfinished ? 'Thoughts (unfinished)' : 'Thoughts'}
      </summary>
      <div className="thinking-body" data-testid="thinking-text">{text}</div>
    </details>
  );
}
