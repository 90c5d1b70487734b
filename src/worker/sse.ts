// Server-sent events (the WHATWG event-stream format) from a fetch body: what OpenAI-compatible
// servers stream chat completions in. Only `event` and `data` matter here; `id` and `retry` are for
// EventSource reconnection, which a POST stream never does.

export interface SSEEvent {
  /** the `event:` field; 'message' when the server sent none */
  event: string;
  /** the `data:` lines joined with '\n' */
  data: string;
}

/** Incremental parser: push decoded text as it arrives, take the events it completes. */
export class SSEParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';

  push(text: string): SSEEvent[] {
    this.buffer += text;
    const out: SSEEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A trailing '\r' may be the first half of a '\r\n' split across reads: wait for the next piece.
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  /**
   * The stream ended. The format dispatches an event only at a blank line, so an unterminated last
   * event is dropped (a cut-off stream must not pass off half a JSON object as complete).
   */
  end(): SSEEvent[] {
    // a '\r' held back as a possible half of '\r\n' was a line end after all
    const out = this.buffer.endsWith('\r') ? this.push('\n') : [];
    this.buffer = '';
    this.data = [];
    this.event = '';
    return out;
  }

  private line(line: string): SSEEvent | null {
    if (line === '') {
      if (this.data.length === 0) { this.event = ''; return null; }
      const ev = { event: this.event || 'message', data: this.data.join('\n') };
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return null; // a comment (keep-alive pings)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return null;
  }
}

/** The events of a response body, in order; ends when the body does. Read errors (abort, a cut connection) propagate. */
export async function* readSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        yield* parser.push(decoder.decode());
        yield* parser.end();
        return;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    // Stopping early (the consumer broke out, or an error) must close the connection.
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
