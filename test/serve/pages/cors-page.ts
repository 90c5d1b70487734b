// Runs in Chromium on the harness's origin, talking to `cli serve` on another port: CORS preflight
// (Authorization is not a simple header), streaming through fetch, and the openai client in a browser.
import OpenAI from 'openai';

export async function rawStream(base: string, key: string): Promise<{ status: number; text: string; done: boolean; usage: unknown }> {
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  const body = await r.text();
  let text = '', usage: unknown = null;
  const events = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  for (const e of events.filter((x) => x !== '[DONE]')) {
    const j = JSON.parse(e) as { choices: { delta: { content?: string } }[]; usage?: unknown };
    text += j.choices[0]?.delta.content ?? '';
    if (j.usage) usage = j.usage;
  }
  return { status: r.status, text, done: events.at(-1) === '[DONE]', usage };
}

/** What a page can read of a refused request: the status and the error object (CORS headers on errors too). */
export async function refused(base: string): Promise<{ status: number; type: string }> {
  const r = await fetch(`${base}/v1/models`, { headers: { Authorization: 'Bearer wrong' } });
  return { status: r.status, type: ((await r.json()) as { error: { type: string } }).error.type };
}

export async function clientChat(base: string, key: string): Promise<{ models: string[]; text: string }> {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, dangerouslyAllowBrowser: true, maxRetries: 0 });
  const models = (await client.models.list()).data.map((m) => m.id);
  let text = '';
  const stream = await client.chat.completions.create({
    model: models[0], messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 8, temperature: 0, stream: true,
  });
  for await (const ch of stream) text += ch.choices[0]?.delta.content ?? '';
  return { models, text };
}
