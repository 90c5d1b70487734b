// The remote engine against a real llama-server (llama.cpp, stories260K): models, streaming with
// stats from llama-server's timings, stop strings, max_tokens, abort, API keys, a model the server
// lacks (router mode), an unreachable port, and the server dying mid-answer.
import Ajv2020 from 'ajv/dist/2020.js';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionParams } from '../../src/worker/api.ts';
import { normaliseBaseUrl, RemoteEngine } from '../../src/worker/remote-engine.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { readChatTemplate } from '../../e2e/gguf-template.ts';
import { fixture } from '../fixtures.ts';
import { freePort, startLlamaServer, type ServerProcess } from '../llama-server.ts';
import { llamaGreedyIds } from '../llama-greedy.ts';
import { startCliServe } from '../serve/cli-serve.ts';
import { thinkingOpenedTemplate } from '../thinking-template.ts';

const MODEL = fixture('models/stories260K.gguf');
const greedy = (max: number, extra: Partial<ChatCompletionParams> = {}): ChatCompletionParams => ({
  messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, temperature: 0, max_tokens: max, seed: 1, ...extra,
});

interface Run { text: string; pieces: ChatCompletionChunk[]; last: ChatCompletionChunk }

async function run(engine: RemoteEngine, params: ChatCompletionParams, opts: { signal?: AbortSignal; onPiece?(n: number): void } = {}): Promise<Run> {
  const pieces: ChatCompletionChunk[] = [];
  let last: ChatCompletionChunk | undefined;
  for await (const c of engine.chat.completions.create(params, { signal: opts.signal })) {
    expect(last, 'nothing after the final chunk').toBeUndefined();
    if (c.choices[0].finish_reason) last = c;
    else { pieces.push(c); opts.onPiece?.(pieces.length); }
  }
  if (!last) throw new Error('no final chunk');
  return { text: pieces.map((p) => p.choices[0].delta.content ?? '').join(''), pieces, last };
}

interface Whole { content: string; reasoning_content?: string; completion_tokens: number }

/** llama-server's own non-streamed answer to the same request: the reference the streamed one must match. */
async function nonStreamed(url: string, params: ChatCompletionParams, headers: Record<string, string> = {}): Promise<Whole> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ ...params, stream: false }),
  });
  expect(res.status).toBe(200);
  const j = await res.json() as { choices: { message: { content: string; reasoning_content?: string } }[]; usage: { completion_tokens: number } };
  return { ...j.choices[0].message, completion_tokens: j.usage.completion_tokens };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return { code: (e as EngineError).code, message: (e as Error).message };
  }
  throw new Error('expected an EngineError');
}

describe('normaliseBaseUrl', () => {
  it.each([
    ['http://host:8080', 'http://host:8080/v1'],
    ['http://host:8080/', 'http://host:8080/v1'],
    ['http://host:8080/v1', 'http://host:8080/v1'],
    ['http://host:8080/v1///', 'http://host:8080/v1'],
    ['  192.168.1.20:8080 ', 'http://192.168.1.20:8080/v1'],
    ['https://box.lan/llama/v1/chat/completions', 'https://box.lan/llama/v1'],
    ['http://host:11434/v1/models', 'http://host:11434/v1'],
  ])('%s → %s', (input, want) => expect(normaliseBaseUrl(input)).toBe(want));

  it.each(['', '   ', 'ftp://host/', 'http://', 'http://exa mple:80'])('refuses %j with BAD_ARGUMENT', (input) => {
    expect(() => normaliseBaseUrl(input)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('remote engine ↔ llama-server', () => {
  let server: ServerProcess;
  let engine: RemoteEngine;
  beforeAll(async () => {
    server = await startLlamaServer({ model: MODEL });
    const [model] = await new RemoteEngine({ baseUrl: server.url }).listModels();
    engine = new RemoteEngine({ baseUrl: `${server.url}/`, model: model.id });
  });
  afterAll(async () => { await server?.stop(); });

  it('lists the served model', async () => {
    const models = await new RemoteEngine({ baseUrl: `${server.url}/v1/` }).listModels();
    expect(models).toHaveLength(1);
    expect(models[0].id).toMatch(/stories260K/);
  });

  it('no Think toggle: the template llama-server shows at /props does not read enable_thinking', async () => {
    const props = await (await fetch(`${server.url}/props`)).json() as { chat_template?: string };
    expect(typeof props.chat_template).toBe('string');
    expect(await engine.templateReadsThinking()).toBe(false);
  });

  it('streams an answer; stats come from llama-server\'s timings; the repeat reuses the KV cache', async () => {
    const first = await run(engine, greedy(24));
    const whole = await nonStreamed(server.url, greedy(24));
    expect(first.text).toBe(whole.content);
    expect(first.pieces).toHaveLength(whole.completion_tokens);
    const { stats, usage } = first.last;
    expect(first.last.choices[0].finish_reason).toMatch(/^(stop|length)$/);
    expect(stats).toMatchObject({ backend: 'remote' });
    expect(stats!.promptTokens).toBeGreaterThan(3);
    expect(stats!.promptTokens).toBe(usage!.prompt_tokens);
    expect(stats!.prefilledTokens).toBe(stats!.promptTokens); // a fresh server: nothing cached
    // one streamed piece per token (no stop string held text back)
    expect(stats!.generatedTokens).toBe(first.pieces.length);
    expect(stats!.decodeTokensPerSec).toBeGreaterThan(0);
    expect(stats!.prefillTokensPerSec).toBeGreaterThan(0);
    expect(stats!.timeToFirstTokenMs).toBeGreaterThan(0);
    console.log(`llama-server stories260K: ${stats!.promptTokens} prompt tok, TTFT ${stats!.timeToFirstTokenMs.toFixed(1)} ms, ` +
      `prefill ${stats!.prefillTokensPerSec.toFixed(0)} tok/s, decode ${stats!.decodeTokensPerSec.toFixed(0)} tok/s`);

    const again = await run(engine, greedy(24));
    expect(again.text).toBe(first.text);
    expect(again.last.stats!.promptTokens).toBe(stats!.promptTokens);
    expect(again.last.stats!.prefilledTokens).toBeLessThan(stats!.promptTokens); // cache_n > 0
  });

  it('response_format json_schema and grammar reach the server: llama-server constrains the answer (ajv validates it)', async () => {
    const schema = {
      type: 'object', properties: { title: { type: 'string', maxLength: 20 }, stars: { type: 'integer', minimum: 1, maximum: 5 } },
      required: ['title', 'stars'], additionalProperties: false,
    };
    const validate = new Ajv2020({ strict: true }).compile(schema);
    const r = await run(engine, greedy(200, { response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } } }));
    expect(r.last.choices[0].finish_reason, r.text).toBe('stop');
    expect(validate(JSON.parse(r.text)), r.text).toBe(true);
    const g = await run(engine, greedy(20, { temperature: 1, seed: 3, grammar: 'root ::= ("yes" | "no") "."' }));
    expect(['yes.', 'no.']).toContain(g.text);
    const story = (await run(engine, greedy(30))).text;
    expect(() => JSON.parse(story), 'unconstrained, the same prompt is a story').toThrow();
  });

  it('logprobs, top_logprobs and logit_bias reach the server; its logprobs come back on the chunks', async () => {
    const r = await run(engine, greedy(12, { logprobs: true, top_logprobs: 3 }));
    const lps = r.pieces.flatMap((p) => p.choices[0].logprobs?.content ?? []);
    expect(lps.length).toBe(r.last.usage!.completion_tokens);
    expect(lps.map((t) => t.token).join('')).toBe(r.text);
    for (const t of lps) {
      expect(t.top_logprobs).toHaveLength(3);
      // greedy: the chosen token is the most likely one
      expect(t.top_logprobs[0].token).toBe(t.token);
      expect(t.logprob).toBeLessThanOrEqual(0);
    }
    // banning the first answer token makes the server pick another
    const first = (lps[0] as { id?: number }).id;
    expect(typeof first).toBe('number');
    const banned = await run(engine, greedy(12, { logit_bias: { [String(first)]: -100 } }));
    expect(banned.text.startsWith(lps[0].token)).toBe(false);
    expect(banned.pieces.every((p) => p.choices[0].logprobs === undefined)).toBe(true);
  });

  it('max_tokens ends with finish "length" after exactly that many tokens', async () => {
    const r = await run(engine, greedy(5));
    expect(r.last.choices[0].finish_reason).toBe('length');
    expect(r.last.stats!.generatedTokens).toBe(5);
    expect(r.last.usage!.completion_tokens).toBe(5);
  });

  it('a stop string ends the answer before it, with finish "stop"', async () => {
    const full = (await run(engine, greedy(40))).text;
    const words = full.split(/\s+/).filter((w) => w.length >= 3);
    const word = words[Math.floor(words.length / 2)];
    const cut = full.indexOf(word);
    expect(cut).toBeGreaterThan(0);
    const r = await run(engine, greedy(40, { stop: ['\u0000never', word] }));
    expect(r.text).toBe(full.slice(0, cut));
    expect(r.last.choices[0].finish_reason).toBe('stop');
  });

  it('an abort mid-stream ends with a final "abort" chunk carrying what arrived, and the server is free again', async () => {
    const ctrl = new AbortController();
    const r = await run(engine, greedy(400, { temperature: 0.8 }), { signal: ctrl.signal, onPiece: (n) => { if (n === 3) ctrl.abort(); } });
    expect(r.last.choices[0].finish_reason).toBe('abort');
    expect(r.pieces.length).toBeGreaterThanOrEqual(3);
    expect(r.last.stats!.generatedTokens).toBe(r.pieces.length);
    expect(r.last.stats!.timeToFirstTokenMs).toBeGreaterThan(0);
    // aborted before it was sent: no request, the same final chunk
    const early = await run(engine, greedy(10), { signal: AbortSignal.abort() });
    expect(early.last.choices[0].finish_reason).toBe('abort');
    expect(early.pieces).toHaveLength(0);
    const next = await run(engine, greedy(5));
    expect(next.last.choices[0].finish_reason).toBe('length');
  });

  it('a prompt longer than the context is the server\'s HTTP error, as REMOTE_FAILED with its message', async () => {
    const long = 'the cat sat on the mat and '.repeat(400);
    const e = await codeOf(run(engine, greedy(5, { messages: [{ role: 'user', content: long }] })));
    expect(e.code).toBe('REMOTE_FAILED');
    expect(e.message).toContain(server.url);
    expect(e.message).toMatch(/context/i);
  });

  it('an address without the API under it (404) is REMOTE_FAILED, saying to check the address', async () => {
    const e = await codeOf(new RemoteEngine({ baseUrl: `${server.url}/somewhere/else` }).listModels());
    expect(e.code).toBe('REMOTE_FAILED');
    expect(e.message).toContain(`${server.url}/somewhere/else/v1/models does not exist (404`);
    expect(e.message).toMatch(/Check the address/);
  });

  it('chatting without a model, or without messages, is BAD_ARGUMENT', async () => {
    expect((await codeOf(run(new RemoteEngine({ baseUrl: server.url }), greedy(5)))).code).toBe('BAD_ARGUMENT');
    expect((await codeOf(run(engine, greedy(5, { messages: [] })))).code).toBe('BAD_ARGUMENT');
  });
});

describe('remote engine: thinking (llama-server --jinja, dev-qwen3 with a template that opens <think>)', () => {
  it('streams the thinking as reasoning_content, and chat_template_kwargs turns it off', async () => {
    const qwen3 = fixture('arch/dev-qwen3.Q8_0.gguf');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tpl-')), 'thinking.jinja');
    writeFileSync(file, thinkingOpenedTemplate(readChatTemplate(qwen3)));
    const server = await startLlamaServer({ model: qwen3, args: ['--jinja', '--chat-template-file', file, '-c', '1024'] });
    try {
      const [model] = await new RemoteEngine({ baseUrl: server.url }).listModels();
      const engine = new RemoteEngine({ baseUrl: server.url, model: model.id });
      // its template reads enable_thinking (GET /props): the app offers the Think toggle
      expect(await engine.templateReadsThinking()).toBe(true);
      // The reference: llama.cpp's greedy continuation (node-llama-cpp) of the prompt llama.cpp's jinja
      // renders from this template. Random weights never write </think>: with the block opened by the
      // template, all of it is thinking; with it closed, all of it is the answer.
      const reference = async (enable_thinking: boolean): Promise<string> => {
        const body = JSON.stringify({ ...greedy(12), chat_template_kwargs: { enable_thinking } });
        const { prompt } = await (await fetch(`${server.url}/apply-template`, { method: 'POST', body })).json() as { prompt: string };
        expect(prompt.endsWith(enable_thinking ? '<think>\n' : '</think>\n\n'), prompt).toBe(true);
        const { tokens } = await (await fetch(`${server.url}/tokenize`, {
          method: 'POST', body: JSON.stringify({ content: prompt, add_special: true, parse_special: true }),
        })).json() as { tokens: number[] };
        const ref = await llamaGreedyIds(qwen3, tokens, 12);
        expect(ref.ids).toHaveLength(12);
        return ref.text;
      };
      const on = await run(engine, greedy(12, { chat_template_kwargs: { enable_thinking: true } }));
      const thought = on.pieces.map((p) => p.choices[0].delta.reasoning_content ?? '').join('');
      expect(thought).toBe(await reference(true));
      expect(on.text).toBe('');
      expect(on.last.stats!.generatedTokens).toBe(12);
      const off = await run(engine, greedy(12, { chat_template_kwargs: { enable_thinking: false } }));
      expect(off.pieces.every((p) => p.choices[0].delta.reasoning_content === undefined)).toBe(true);
      expect(off.text).toBe(await reference(false));
      // the closed empty block is in the prompt only when thinking is off
      expect(off.last.stats!.promptTokens).toBeGreaterThan(on.last.stats!.promptTokens);
    } finally {
      await server.stop();
    }
  });
});

describe('remote engine ↔ cli serve: the Think toggle from /props', () => {
  it('offered for dev-qwen3 (its template reads enable_thinking), not for stories260K (no template)', async () => {
    for (const [file, want] of [['arch/dev-qwen3.Q8_0.gguf', true], ['models/stories260K.gguf', false]] as const) {
      const server = await startCliServe({ model: fixture(file), args: ['--threads', '1', '--api-key', 'k'] });
      try {
        expect(await new RemoteEngine({ baseUrl: server.url, apiKey: 'k' }).templateReadsThinking(), file).toBe(want);
        // behind the key, as llama-server's /props
        expect(await new RemoteEngine({ baseUrl: server.url }).templateReadsThinking(), file).toBe(false);
      } finally {
        await server.stop();
      }
    }
  });
});

describe('remote engine errors', () => {
  it('an API key: none or a wrong one is REMOTE_UNAUTHORIZED, the right one works', async () => {
    const server = await startLlamaServer({ model: MODEL, args: ['--api-key', 'sesame'] });
    try {
      const none = await codeOf(new RemoteEngine({ baseUrl: server.url }).listModels());
      expect(none.code).toBe('REMOTE_UNAUTHORIZED');
      expect(none.message).toMatch(/needs an API key/);
      const wrong = await codeOf(new RemoteEngine({ baseUrl: server.url, apiKey: 'open' }).listModels());
      expect(wrong.code).toBe('REMOTE_UNAUTHORIZED');
      expect(wrong.message).toMatch(/refused the API key/);
      const wrongChat = await codeOf(run(new RemoteEngine({ baseUrl: server.url, apiKey: 'open', model: 'x' }), greedy(3)));
      expect(wrongChat.code).toBe('REMOTE_UNAUTHORIZED');

      const right = new RemoteEngine({ baseUrl: server.url, apiKey: 'sesame' });
      const [model] = await right.listModels();
      const r = await run(new RemoteEngine({ baseUrl: server.url, apiKey: 'sesame', model: model.id }), greedy(4));
      expect(r.last.choices[0].finish_reason).toBe('length');
      expect(r.text).toBe((await nonStreamed(server.url, greedy(4), { Authorization: 'Bearer sesame' })).content);
    } finally {
      await server.stop();
    }
  });

  it('a model the server does not have (llama-server in router mode) is REMOTE_MODEL_MISSING', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'models-'));
    symlinkSync(MODEL, path.join(dir, 'stories260K.gguf'));
    const server = await startLlamaServer({ args: ['--models-dir', dir, '--no-models-autoload'] });
    try {
      const models = await new RemoteEngine({ baseUrl: server.url }).listModels();
      expect(models.map((m) => m.id)).toContain('stories260K');
      const e = await codeOf(run(new RemoteEngine({ baseUrl: server.url, model: 'no-such-model' }), greedy(3)));
      expect(e.code).toBe('REMOTE_MODEL_MISSING');
      expect(e.message).toContain('no-such-model');
    } finally {
      await server.stop();
    }
  });

  it('nothing listening is REMOTE_UNREACHABLE, naming the address', async () => {
    const port = await freePort();
    const engine = new RemoteEngine({ baseUrl: `127.0.0.1:${port}`, model: 'm' });
    for (const p of [engine.listModels(), run(engine, greedy(3))]) {
      const e = await codeOf(p);
      expect(e.code).toBe('REMOTE_UNREACHABLE');
      expect(e.message).toContain(`http://127.0.0.1:${port}/v1`);
      expect(e.message).toMatch(/ECONNREFUSED/);
    }
  });

  it('the server killed mid-answer is REMOTE_FAILED after the text that arrived', async () => {
    // --ignore-eos and a long context: an answer far longer than the time the kill takes
    const args = ['--ignore-eos', '-c', '4096'];
    const server = await startLlamaServer({ model: MODEL, args });
    const [model] = await new RemoteEngine({ baseUrl: server.url }).listModels();
    const engine = new RemoteEngine({ baseUrl: server.url, model: model.id });
    const text: string[] = [];
    let killed: Promise<unknown> | undefined;
    const e = await codeOf((async () => {
      for await (const c of engine.chat.completions.create(greedy(4000))) {
        text.push(c.choices[0].delta.content ?? '');
        if (text.length === 2) killed = server.kill();
      }
    })());
    await killed;
    expect(e.code).toBe('REMOTE_FAILED');
    expect(e.message).toContain(server.url);
    expect(e.message).toMatch(/ended before the answer was finished/);
    expect(text.length).toBeGreaterThanOrEqual(2);
    expect(text.length).toBeLessThan(4000);
    // what arrived is the greedy answer's start, token for token: a second server's answer of that length
    const again = await startLlamaServer({ model: MODEL, args });
    const ref = await nonStreamed(again.url, greedy(text.length)).finally(() => again.stop());
    expect(ref.completion_tokens).toBe(text.length);
    expect(text.join('')).toBe(ref.content);
  });

  it('without llama-server\'s timings, stats come from usage and the client\'s clock (a vLLM/Ollama-style server)', async () => {
    // llama-server always sends timings, so a tiny server plays one that sends only OpenAI's usage.
    const gap = 40;
    const srv = http.createServer(async (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      for (const piece of ['Once', ' upon', ' a', ' time']) {
        await new Promise((r) => setTimeout(r, gap));
        res.write(`data: {"id":"v","model":"m","choices":[{"index":0,"delta":{"content":"${piece}"},"finish_reason":null}]}\n\n`);
      }
      res.write('data: {"id":"v","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n');
      res.write('data: {"id":"v","model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":2}}}\n\n');
      res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await run(new RemoteEngine({ baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, model: 'm' }), greedy(9));
      expect(r.text).toBe('Once upon a time');
      const s = r.last.stats!;
      expect(s).toMatchObject({ backend: 'remote', promptTokens: 9, prefilledTokens: 7, generatedTokens: 4 });
      expect(s.timeToFirstTokenMs).toBeGreaterThanOrEqual(gap * 0.8);
      // 3 gaps between 4 tokens: about 1000 / gap tok/s (timers may run late, never early)
      expect(s.decodeTokensPerSec).toBeLessThanOrEqual((1000 / gap) * 1.25);
      expect(s.decodeTokensPerSec).toBeGreaterThan((1000 / gap) / 4);
      expect(s.prefillTokensPerSec).toBeCloseTo(9 / (s.timeToFirstTokenMs / 1000), 5);
      expect(r.last.usage).toEqual({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
    } finally {
      srv.close();
    }
  });

  it('a server that answers a streamed request with plain JSON is REMOTE_FAILED, not a silent empty answer', async () => {
    const srv = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
        .end('{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const e = await codeOf(run(new RemoteEngine({ baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, model: 'm' }), greedy(3)));
      expect(e.code).toBe('REMOTE_FAILED');
      expect(e.message).toMatch(/application\/json instead of an event stream/);
    } finally {
      srv.close();
    }
  });

  it('an error object in the stream is REMOTE_FAILED with the server\'s message (a vLLM-style server; llama-server sends none mid-answer)', async () => {
    // The one case here without llama-server: it reports errors before the stream starts.
    const srv = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n');
      res.write('data: {"id":"x","choices":[{"index":0,"delta":{"content":"lo"}}]}\n\n');
      res.end('data: {"error":{"message":"CUDA out of memory","type":"InternalServerError","code":500}}\n\n');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    try {
      const text: string[] = [];
      const e = await codeOf((async () => {
        for await (const c of new RemoteEngine({ baseUrl: `http://127.0.0.1:${port}`, model: 'm' }).chat.completions.create(greedy(9))) {
          text.push(c.choices[0].delta.content ?? '');
        }
      })());
      expect(e.code).toBe('REMOTE_FAILED');
      expect(e.message).toContain('CUDA out of memory');
      expect(text.join('')).toBe('Hello');
    } finally {
      srv.close();
    }
  });
});
