// A model's thinking, folded by default: the summary says it is still thinking while the block
// streams; opening it shows the text (the <details> element keeps its own open state across repaints).
export function ThinkingBlock({ text, thinking }: { text: string; thinking: boolean }) {
  return (
    <details className="thinking" data-testid="thinking-block" aria-busy={thinking || undefined}>
      <summary data-testid="thinking-summary">
        {thinking ? <span className="thinking-live">Thinking…</span> : 'Thoughts'}
      </summary>
      <div className="thinking-body" data-testid="thinking-text">{text}</div>
    </details>
  );
}
