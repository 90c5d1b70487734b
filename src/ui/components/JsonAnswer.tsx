// An answer asked for as JSON: a code block, pretty-printed once it parses (as it streams, the raw
// text). A JSON answer cut short (token limit, Stop) does not parse: shown as it came, and said so.
export function JsonAnswer({ text, streaming }: { text: string; streaming: boolean }) {
  let pretty: string | null = null;
  if (!streaming) {
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2);
    } catch { /* shown raw below */ }
  }
  return (
    <>
      <pre className="json-answer" data-testid="json-answer"><code>{pretty ?? text}</code></pre>
      {!streaming && pretty === null && <div className="hint" data-testid="json-incomplete">Not complete JSON: the answer ended before the JSON did.</div>}
    </>
  );
}
