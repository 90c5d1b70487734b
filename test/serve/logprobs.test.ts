// logprobs, top_logprobs and logit_bias through `cli serve`, read by the official `openai` client
// (streamed and not), against llama.cpp's llama-server on the same GGUF (stories260K, greedy).
// Reference shapes: llama-server answers both routes with choices[].logprobs.content[] (the chat
// shape, also on /v1/completions); we answer /v1/completions with OpenAI's legacy shape
// {tokens, token_logprobs, top_logprobs, text_offset}, so the test maps one onto the other.
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { startLlamaServer } from '../llama-server.ts';
import { startCliServe, type ServerProcess } from './cli-serve.ts';

const MODEL = fixture('models', 'stories260K.gguf');
const PROMPT = 'Once upon a time';
// the measured gap to llama-server is ≤ 6.8e-3 on these tokens: see test/engine/logprobs.test.ts
const TOL = 0.02;
// top_k is llama.cpp's extension of the OpenAI body (the client passes unknown fields through)
const greedy = { temperature: 0, top_k: 1 } as { temperature: number };

let ours: ServerProcess, theirs: ServerProcess;
let client: OpenAI, ref: OpenAI;
beforeAll(async () => {
  [ours, theirs] = await Promise.all([
    startCliServe({ model: MODEL, args: ['--threads', '1', '--ctx', '256'] }),
    startLlamaServer({ model: MODEL, args: ['-c', '256'] }),
  ]);
  client = new OpenAI({ baseURL: `${ours.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 60_000 });
  ref = new OpenAI({ baseURL: `${theirs.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 60_000 });
}, 180_000);
afterAll(async () => { await Promise.all([ours?.stop(), theirs?.stop()]); });

type Content = OpenAI.Chat.Completions.ChatCompletionTokenLogprob[];
interface Legacy { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[]; text_offset: number[] }

/** llama-server's /v1/completions logprobs (the chat shape there). */
async function reference(extra: object = {}, n = 5, maxTokens = 16): Promise<{ text: string; content: Content }> {
  const r = await ref.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: maxTokens, ...greedy, logprobs: n, ...extra } as never) as OpenAI.Completion;
  return { text: r.choices[0].text, content: (r.choices[0].logprobs as unknown as { content: Content }).content };
}

function expectSameContent(a: Content, b: Content): void {
  expect(a.map((t) => t.token)).toEqual(b.map((t) => t.token));
  a.forEach((t, i) => {
    expect(Math.abs(t.logprob - b[i].logprob)).toBeLessThan(TOL);
    expect(t.bytes).toEqual(b[i].bytes);
    expect(t.top_logprobs.map((x) => x.token)).toEqual(b[i].top_logprobs.map((x) => x.token));
    t.top_logprobs.forEach((x, j) => expect(Math.abs(x.logprob - b[i].top_logprobs[j].logprob)).toBeLessThan(TOL));
  });
}

describe('chat completions: logprobs + top_logprobs', () => {
  const messages = [{ role: 'user' as const, content: PROMPT }];

  it('non-streamed: choices[0].logprobs.content matches llama-server on the same prompt', async () => {
    // stories260K has no chat template: our chat continues the plain text (BOS + the message), as
    // llama-server's text completion of it does; its own chat would render ChatML
    const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16, ...greedy, logprobs: true, top_logprobs: 5 });
    const content = r.choices[0].logprobs!.content!;
    expect(content).toHaveLength(r.usage!.completion_tokens);
    for (const t of content) expect(t.top_logprobs).toHaveLength(5);
    const want = await reference();
    expect(r.choices[0].message.content).toBe(want.text);
    expectSameContent(content, want.content);
    // the tokens spell the answer (its first leading space is dropped in the text, as llama.cpp does)
    expect(content.map((t) => t.token).join('').trimStart()).toBe(r.choices[0].message.content);
  });

  it('streamed: each chunk carries the logprobs of its tokens; together they are the non-streamed ones', async () => {
    const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16, ...greedy, logprobs: true, top_logprobs: 3 });
    const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16, ...greedy, logprobs: true, top_logprobs: 3, stream: true });
    const all: Content = [];
    let text = '';
    for await (const ch of stream) {
      const c = ch.choices[0];
      if (!c) continue;
      const piece = c.delta.content ?? '';
      text += piece;
      const lps = c.logprobs?.content ?? [];
      // (the answer's first piece may have lost its token's leading space)
      const joined = lps.map((t) => t.token).join('');
      if (piece) expect(text.length === piece.length ? joined.trimStart() : joined).toBe(piece);
      all.push(...lps);
    }
    expect(text).toBe(whole.choices[0].message.content);
    expect(all).toEqual(whole.choices[0].logprobs!.content);
  });

  it('top_logprobs 0 (or left out): the chosen token only; without logprobs: null', async () => {
    for (const extra of [{ top_logprobs: 0 }, {}]) {
      const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, ...greedy, logprobs: true, ...extra });
      const content = r.choices[0].logprobs!.content!;
      expect(content).toHaveLength(4);
      for (const t of content) expect(t.top_logprobs).toEqual([]);
    }
    const off = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, ...greedy });
    expect(off.choices[0].logprobs).toBeNull();
  });
});

describe('text completions: logprobs N (legacy shape)', () => {
  it('tokens, token_logprobs, top_logprobs and text_offset match llama-server; streamed = non-streamed', async () => {
    const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 16, ...greedy, logprobs: 5 });
    const lp = r.choices[0].logprobs as unknown as Legacy;
    const text = r.choices[0].text;
    const want = await reference();
    expect(text).toBe(want.text);
    expect(lp.tokens).toEqual(want.content.map((t) => t.token));
    lp.token_logprobs.forEach((v, i) => expect(Math.abs(v - want.content[i].logprob)).toBeLessThan(TOL));
    lp.top_logprobs.forEach((top, i) => {
      const w = want.content[i].top_logprobs;
      expect(Object.keys(top)).toEqual(w.map((x) => x.token));
      w.forEach((x) => expect(Math.abs(top[x.token] - x.logprob)).toBeLessThan(TOL));
    });
    lp.text_offset.forEach((o, i) => expect(text.slice(o).startsWith(lp.tokens[i])).toBe(true));
    expect(lp.text_offset[0]).toBe(0);

    const streamed: Legacy = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
    for await (const ch of await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 16, ...greedy, logprobs: 5, stream: true })) {
      const l = ch.choices[0]?.logprobs as unknown as Legacy | null;
      if (!l) continue;
      for (const k of ['tokens', 'token_logprobs', 'top_logprobs', 'text_offset'] as const) (streamed[k] as unknown[]).push(...l[k]);
    }
    expect(streamed).toEqual(lp);
  });
});

describe('with a stop string', () => {
  it('the reported tokens spell the answer: those the stop string swallowed are left out', async () => {
    const full = await reference({}, 1, 16);
    const stop = full.content[3].token; // the fourth token's text, which ends the answer before it
    const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 16, ...greedy, logprobs: 1, stop: [stop] });
    const lp = r.choices[0].logprobs as unknown as Legacy;
    const want = await reference({ stop: [stop] }, 1, 16);
    expect(r.choices[0].text).toBe(want.text);
    expect(lp.tokens).toEqual(full.content.slice(0, 3).map((t) => t.token));
    expect(lp.tokens.join('')).toBe(r.choices[0].text);
    // llama-server (de3ff815) drops as many tokens as the stop text tokenizes to, from the end:
    // here one more than it swallowed (the answer's own last token), so its list is a prefix of ours
    const theirs = want.content.map((t) => t.token);
    expect(lp.tokens.slice(0, theirs.length)).toEqual(theirs);
  });
});

describe('logit_bias', () => {
  it('-100 on the greedy first token: the second choice comes instead, from both servers alike', async () => {
    const base = await reference({}, 2, 1);
    const [first, second] = base.content[0].top_logprobs as unknown as { id: number; token: string }[];
    const bias = { [String(first.id)]: -100 };
    const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 16, ...greedy, logit_bias: bias, logprobs: 2 });
    const lp = r.choices[0].logprobs as unknown as Legacy;
    expect(lp.tokens[0]).toBe(second.token);
    // the reported distribution is the model's (before the bias), as llama-server reports it
    expect(Object.keys(lp.top_logprobs[0])[0]).toBe(first.token);
    const want = await reference({ logit_bias: bias }, 2);
    expect(r.choices[0].text).toBe(want.text);
    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 16, ...greedy, logit_bias: bias });
    expect(chat.choices[0].message.content).toBe(want.text);
  });

  const bad: [string, object][] = [
    ['a key that is not a token id', { logit_bias: { hello: 1 } }],
    ['a token id past the vocabulary', { logit_bias: { 512: 1 } }],
    ['a bias above 100', { logit_bias: { 5: 101 } }],
    ['a bias that is not a number', { logit_bias: { 5: 'x' } }],
    ['an array', { logit_bias: [[5, 1]] }],
  ];
  for (const [what, extra] of bad) {
    it(`400 naming logit_bias for ${what}`, async () => {
      for (const call of [
        () => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 1, ...extra } as never),
        () => client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 1, ...extra } as never),
      ]) {
        const e = await call().then(() => null, (x: unknown) => x);
        expect(e).toBeInstanceOf(APIError);
        expect((e as APIError).status).toBe(400);
        expect((e as APIError).param).toBe('logit_bias');
      }
    });
  }
});

describe('bad logprobs fields', () => {
  const cases: [string, () => Promise<unknown>, string][] = [
    ['top_logprobs 21', () => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 21 }), 'top_logprobs'],
    ['top_logprobs without logprobs', () => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }), 'top_logprobs'],
    ['chat logprobs not a boolean', () => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], logprobs: 3 } as never), 'logprobs'],
    ['completions logprobs 21', () => client.completions.create({ model: MODEL, prompt: 'x', logprobs: 21 }), 'logprobs'],
    ['completions logprobs 1.5', () => client.completions.create({ model: MODEL, prompt: 'x', logprobs: 1.5 }), 'logprobs'],
  ];
  for (const [what, call, param] of cases) {
    it(`400 naming ${param}: ${what}`, async () => {
      const e = await call().then(() => null, (x: unknown) => x);
      expect((e as APIError).status).toBe(400);
      expect((e as APIError).param).toBe(param);
    });
  }
});
