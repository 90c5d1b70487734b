// The SSE parser: the event-stream format's corner cases fed in awkward pieces, then a real
// llama-server stream read through it (exactly the events in its bytes, ending in [DONE], the same
// text as the non-streamed answer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSSE, SSEParser, type SSEEvent } from '../../src/worker/sse.ts';
import { fixture } from '../fixtures.ts';
import { startLlamaServer, type ServerProcess } from '../llama-server.ts';

/** Parses `text` fed to the parser in pieces of `size` characters. */
function parse(text: string, size: number): SSEEvent[] {
  const p = new SSEParser();
  const out: SSEEvent[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
  out.push(...p.end());
  return out;
}

function bodyOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= bytes.length) { c.close(); return; }
      c.enqueue(bytes.slice(o, o + size));
      o += size;
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>): Promise<SSEEvent[]> {
  const out: SSEEvent[] = [];
  for await (const e of readSSE(body)) out.push(e);
  return out;
}

describe('SSEParser', () => {
  const stream = [
    ': a comment (keep-alive)',
    'data: {"a":1}',
    '',
    'event: error',
    'data: line one',
    'data:line two',
    '',
    'data',
    '',
    'id: 7',
    'retry: 100',
    '',
    'data:  two spaces',
    '',
  ];
  const want: SSEEvent[] = [
    { event: 'message', data: '{"a":1}' },
    { event: 'error', data: 'line one\nline two' },
    { event: 'message', data: '' },
    { event: 'message', data: ' two spaces' },
  ];

  it.each(['\n', '\r\n', '\r'])('parses the same events with %j line ends, whatever the piece size', (eol) => {
    const text = stream.join(eol) + eol;
    for (const size of [1, 2, 3, 7, text.length]) expect(parse(text, size), `pieces of ${size}`).toEqual(want);
  });

  it('drops an event the stream cut off before its blank line', () => {
    expect(parse('data: whole\n\ndata: {"half', 4)).toEqual([{ event: 'message', data: 'whole' }]);
    expect(parse('data: whole\n\ndata: {"x":1}\n', 5)).toEqual([{ event: 'message', data: 'whole' }]);
  });

  it('readSSE decodes UTF-8 split inside a character', async () => {
    const text = 'data: {"c":"héllo — 世界 🙂"}\r\n\r\ndata: [DONE]\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 3, 5]) {
      expect(await collect(bodyOf(bytes, size))).toEqual([
        { event: 'message', data: '{"c":"héllo — 世界 🙂"}' }, { event: 'message', data: '[DONE]' }]);
    }
  });

  it('readSSE passes a read error on (a cut connection is not a clean end)', async () => {
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent) { sent = true; c.enqueue(new TextEncoder().encode('data: 1\n\n')); return; }
        c.error(new TypeError('terminated'));
      },
    });
    const seen: string[] = [];
    await expect((async () => { for await (const e of readSSE(body)) seen.push(e.data); })()).rejects.toThrow('terminated');
    expect(seen).toEqual(['1']);
  });
});

describe('readSSE on a real llama-server stream (stories260K)', () => {
  let server: ServerProcess;
  beforeAll(async () => { server = await startLlamaServer({ model: fixture('models/stories260K.gguf') }); });
  afterAll(async () => { await server?.stop(); });

  it('parses a real stream into exactly its events, whatever the piece size; the deltas add up to the non-streamed answer', async () => {
    const request = { messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0, max_tokens: 40, seed: 1 };
    const post = (body: object): Promise<Response> => fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const res = await post({ ...request, stream: true });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // llama-server writes every event as one `data: …` line and a blank line: split that way, its
    // bytes are the expected events
    const blocks = new TextDecoder().decode(bytes).split('\n\n');
    expect(blocks.pop()).toBe('');
    for (const b of blocks) expect(b).toMatch(/^data: [^\n]*$/);
    const want = blocks.map((b) => ({ event: 'message', data: b.slice('data: '.length) }));
    for (const size of [1, 3, 64, bytes.length]) expect(await collect(bodyOf(bytes, size)), `pieces of ${size}`).toEqual(want);

    expect(want.at(-1)).toEqual({ event: 'message', data: '[DONE]' });
    const chunks = want.slice(0, -1).map((e) => JSON.parse(e.data) as { choices: { delta: { content?: string | null } }[] });
    const deltas = chunks.map((c) => c.choices[0]?.delta.content ?? '').filter((d) => d !== '');
    const whole = await (await post(request)).json() as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    expect(deltas.join('')).toBe(whole.choices[0].message.content);
    // one event per generated token (the tiny model's vocabulary has no token split inside a character)
    expect(deltas).toHaveLength(whole.usage.completion_tokens);
  });
});
