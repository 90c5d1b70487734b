// `cli serve` at the HTTP level (raw fetch and sockets, no client library): what a careless or
// hostile client sends gets an OpenAI-style error object with the right status and the server goes
// on answering; a client that hangs up mid-answer frees the model for the next one.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { startCliServe, type ServerProcess } from './cli-serve.ts';

const stories = fixture('models', 'stories260K.gguf');
let srv: ServerProcess;
const seenWhileLoading: { status: number; body: unknown }[] = [];

beforeAll(async () => {
  srv = await startCliServe({
    model: stories, args: ['--threads', '1', '--ctx', '2048'],
    // /health polled from the first moment: only 503-while-loading or 200 may come back
    onListening: async (url) => {
      for (let i = 0; i < 200; i++) {
        const r = await fetch(`${url}/health`);
        seenWhileLoading.push({ status: r.status, body: await r.json() });
        if (r.status === 200) return;
      }
    },
  });
});
afterAll(async () => { await srv?.stop(); });

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

async function expectError(r: Response, status: number, type?: string): Promise<{ message: string; type: string; param: unknown; code: unknown }> {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/application\/json/);
  expect(r.headers.get('access-control-allow-origin')).toBe('*');
  const { error } = await r.json() as { error: { message: string; type: string; param: unknown; code: unknown } };
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  if (type) expect(error.type).toBe(type);
  expect(error).toHaveProperty('param');
  expect(error.code).toBe(status);
  return error;
}

const chatBody = (extra: object = {}) => JSON.stringify({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 4, temperature: 0, ...extra });

describe('cli serve over raw HTTP', () => {
  it('/health: 503 with an error object while loading, then {"status":"ok"}', () => {
    expect(seenWhileLoading.at(-1)).toEqual({ status: 200, body: { status: 'ok' } });
    for (const s of seenWhileLoading.slice(0, -1)) {
      expect(s.status).toBe(503);
      expect((s.body as { error: { type: string } }).error.type).toBe('unavailable_error');
    }
  });

  it('malformed JSON, a body that is not an object, wrong types and ranges → 400 naming the field', async () => {
    await expectError(await post('/v1/chat/completions', '{"messages": [}'), 400, 'invalid_request_error');
    await expectError(await post('/v1/chat/completions', ''), 400, 'invalid_request_error');
    await expectError(await post('/v1/chat/completions', '[1,2]'), 400, 'invalid_request_error');
    const cases: [object, string][] = [
      [{ messages: undefined }, 'messages'],
      [{ messages: 'hi' }, 'messages'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content'],
      [{ temperature: 'hot' }, 'temperature'],
      [{ max_tokens: 1.5 }, 'max_tokens'],
      [{ top_p: 2 }, 'top_p'],
      [{ stop: [1, 2] }, 'stop'],
      [{ stream: 'yes' }, 'stream'],
      [{ n: 3 }, 'n'],
      [{ chat_template_kwargs: { enable_thinking: 'no' } }, 'enable_thinking'],
    ];
    for (const [extra, param] of cases) {
      const e = await expectError(await post('/v1/chat/completions', chatBody(extra)), 400, 'invalid_request_error');
      if (param !== 'enable_thinking') expect(e.param, JSON.stringify(extra)).toBe(param);
    }
    // a prompt the engine refuses (nothing but the BOS) is still a plain 400 when streaming was asked for
    for (const stream of [false, true]) {
      await expectError(await post('/v1/chat/completions', chatBody({ stream, messages: [{ role: 'user', content: '' }] })), 400, 'invalid_request_error');
    }
    await expectError(await post('/v1/completions', JSON.stringify({ prompt: { text: 'x' } })), 400);
    await expectError(await post('/v1/completions', JSON.stringify({ prompt: [1, 99999] })), 400);
    await expectError(await post('/v1/completions', JSON.stringify({ prompt: 'x', repeat_penalty: 0 })), 400);
  });

  it('unknown path → 404, GET on a POST route → 405 with Allow; preflight → 204 with CORS headers', async () => {
    await expectError(await fetch(`${srv.url}/v1/nothing-here`), 404, 'not_found_error');
    const r = await fetch(`${srv.url}/v1/chat/completions`);
    expect(r.headers.get('allow')).toMatch(/POST/);
    await expectError(r, 405);
    await expectError(await post('/v1/models', '{}'), 405);
    const pre = await fetch(`${srv.url}/v1/chat/completions`, {
      method: 'OPTIONS', headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    // a preflight that names no headers still gets Authorization and Content-Type (named: '*' does not cover Authorization)
    const bare = await fetch(`${srv.url}/v1/models`, { method: 'OPTIONS' });
    expect(bare.status).toBe(204);
    expect(bare.headers.get('access-control-allow-headers')).toMatch(/Authorization, Content-Type/);
  });

  it('a body over the limit (9 MiB) → 413 that the client reads; the server goes on', async () => {
    const big = JSON.stringify({ prompt: 'x'.repeat(9 * 2 ** 20) });
    await expectError(await post('/v1/completions', big), 413);
    const ok = await post('/v1/completions', JSON.stringify({ prompt: 'Once upon a time', max_tokens: 3, temperature: 0 }));
    expect(ok.status).toBe(200);
  });

  it('a client that disconnects mid-stream stops its answer: the next request is answered at once', async () => {
    // this machine's pace: wall time per generated token over HTTP
    const t = performance.now();
    const ref = await (await post('/v1/completions', JSON.stringify({ prompt: 'Once upon a time', max_tokens: 300, temperature: 0 }))).json() as { usage: { completion_tokens: number } };
    const msPerToken = (performance.now() - t) / ref.usage.completion_tokens;
    // a long answer (2000 tokens of the 2048-token context), dropped after the first few SSE events
    const body = JSON.stringify({ prompt: 'Once upon a time', max_tokens: 2000, temperature: 0, stream: true });
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${srv.url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let events = 0;
        res.on('data', (d: Buffer) => {
          events += String(d).split('data: ').length - 1;
          if (events >= 3) { req.destroy(); resolve(); }
        });
      });
      req.on('error', (e) => { if (!req.destroyed) reject(e); });
      req.end(body);
    });
    const tDrop = performance.now();
    const r = await post('/v1/completions', JSON.stringify({ prompt: 'Once upon a time', max_tokens: 8, temperature: 0 }));
    const waited = performance.now() - tDrop;
    expect(r.status).toBe(200);
    const j = await r.json() as { choices: { text: string }[] };
    expect(j.choices[0].text).toBe(', there was a little girl');
    // had the dropped answer run on, this one would have waited for the rest of its 2000 tokens
    const fullMs = 2000 * msPerToken;
    expect(waited, `next answer after ${waited.toFixed(0)} ms; the full dropped answer ~${fullMs.toFixed(0)} ms`).toBeLessThan(fullMs / 4);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
  });

  it('concurrent requests wait their turn and each gets its own answer (one model, one KV cache)', async () => {
    const prompts = ['Once upon a time', 'Lily', 'The dog', 'Once upon a time'];
    const ask = (prompt: string) => post('/v1/completions', JSON.stringify({ prompt, max_tokens: 24, temperature: 0 }))
      .then(async (r) => { expect(r.status).toBe(200); return ((await r.json()) as { choices: { text: string }[] }).choices[0].text; });
    const one = [];
    for (const p of prompts) one.push(await ask(p));
    const all = await Promise.all(prompts.map(ask));
    expect(all).toEqual(one);
    expect(all[0]).toBe(all[3]);
    expect(new Set(all).size).toBe(3);
  });

  it('a queued request whose client leaves is dropped, a bad one is refused without waiting; the queue moves on', async () => {
    // a different prompt each time, so no answer is a cached prefix of another
    const long = (prompt: string) => JSON.stringify({ prompt, max_tokens: 400, temperature: 0 });
    const t0 = performance.now();
    const first = post('/v1/completions', long('Lily'));
    const ctrl = new AbortController();
    const gone = fetch(`${srv.url}/v1/completions`, { method: 'POST', body: long('The dog'), signal: ctrl.signal }).catch((e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 20));
    ctrl.abort();
    expect(await gone).toBe('AbortError');
    // a bad request is refused at once, not after the answer ahead of it
    let firstDone = false;
    void first.then(() => { firstDone = true; });
    await expectError(await post('/v1/completions', JSON.stringify({ prompt: 'x', temperature: 'hot' })), 400);
    expect(firstDone).toBe(false);
    expect((await first).status).toBe(200);
    const firstMs = performance.now() - t0;
    const t1 = performance.now();
    const r = await post('/v1/completions', JSON.stringify({ prompt: 'Once upon a time', max_tokens: 8, temperature: 0 }));
    // had the dropped request run, this one would have waited for its 400 tokens too
    expect(performance.now() - t1, `the first answer took ${firstMs.toFixed(0)} ms`).toBeLessThan(firstMs / 2);
    expect(((await r.json()) as { choices: { text: string }[] }).choices[0].text).toBe(', there was a little girl');
  });

  it('--alias names the model in /v1/models and in answers; SIGINT closes the server (exit code 0)', async () => {
    const alias = await startCliServe({ model: stories, args: ['--threads', '1', '--alias', 'tiny-stories'] });
    try {
      expect(await (await fetch(`${alias.url}/v1/models`)).json()).toMatchObject({ object: 'list', data: [{ id: 'tiny-stories', object: 'model' }] });
      const r = await fetch(`${alias.url}/v1/chat/completions`, { method: 'POST', body: chatBody() });
      expect(await r.json()).toMatchObject({ model: 'tiny-stories', object: 'chat.completion' });
    } finally {
      // Ctrl-C closes it as SIGTERM does
      const exited = new Promise((resolve) => alias.proc.once('exit', resolve));
      alias.proc.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(alias.log()).toMatch(/SIGINT: closing the server/);
    }
  });

  it('a model that cannot be loaded: one error line, exit code 1', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--model', '/nonexistent/model.gguf', '--port', '0'],
        { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => { stderr += String(d); });
      p.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Cannot open \/nonexistent\/model\.gguf/m);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('SIGTERM closes the server cleanly (exit code 0)', async () => {
    const code = await srv.stop();
    expect(code).toBe(0);
    expect(srv.log()).toMatch(/SIGTERM: closing the server/);
  });
});
