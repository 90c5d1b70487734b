// Function calling over HTTP: the real `openai` client against `cli serve` on dev-qwen3 (the Qwen3
// template from the GGUF, Hermes <tool_call> format; random weights, so forced calls show the grammar
// at work): message.tool_calls and delta.tool_calls in OpenAI's shapes, finish_reason "tool_calls",
// a conversation with a past call and its result accepted, bad tools / tool_choice a 400 naming the field.
import Ajv2020 from 'ajv/dist/2020.js';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCall } from '../../src/worker/api.ts';
import { RemoteEngine } from '../../src/worker/remote-engine.ts';
import { fixture } from '../fixtures.ts';
import { startCliServe, type ServerProcess } from './cli-serve.ts';

const MODEL = fixture('arch', 'dev-qwen3.Q8_0.gguf');
const WEATHER_PARAMS = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 20 }, unit: { enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const TOOLS: ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_PARAMS } },
  { type: 'function', function: { name: 'get_time', description: 'Local time in a city', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 20 } }, required: ['city'] } } },
];
const ASK: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];

describe('tools: openai client vs cli serve', () => {
  let server: ServerProcess;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startCliServe({ model: MODEL, args: ['--threads', '1', '--ctx', '1024'] });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 120_000 });
  }, 180_000);
  afterAll(async () => { await server?.stop(); });

  it('tool_choice required: message.tool_calls with arguments valid for the schema, the same as streamed', async () => {
    const r = await client.chat.completions.create({ model: 'm', messages: ASK, tools: TOOLS, tool_choice: 'required', temperature: 0, max_tokens: 120 });
    const choice = r.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls!;
    expect(calls).toHaveLength(1);
    const call = calls[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_/);
    expect(['get_weather', 'get_time']).toContain(call.function.name);

    // the same greedy answer streamed: the client's deltas add up to the same call
    const stream = await client.chat.completions.create({ model: 'm', messages: ASK, tools: TOOLS, tool_choice: 'required', temperature: 0, max_tokens: 120, stream: true });
    const parts: { id?: string; name: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        parts[t.index] ??= { name: '', args: '' };
        if (t.id) parts[t.index].id = t.id;
        parts[t.index].name += t.function?.name ?? '';
        parts[t.index].args += t.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(parts.map((p) => [p.name, JSON.parse(p.args)])).toEqual([[call.function.name, JSON.parse(call.function.arguments)]]);
    expect(parts[0].id).toMatch(/^call_/);
  });

  it("the app's remote engine (worker API types) gets the same call as delta.tool_calls, finish tool_calls", async () => {
    const want = await client.chat.completions.create({ model: 'm', messages: ASK, tools: TOOLS, tool_choice: 'required', temperature: 0, max_tokens: 120 });
    const [m] = await new RemoteEngine({ baseUrl: server.url }).listModels();
    const engine = new RemoteEngine({ baseUrl: server.url, model: m.id });
    const calls: ToolCall[] = [];
    let finish: string | null = null;
    const tools = TOOLS as unknown as NonNullable<Parameters<typeof engine.chat.completions.create>[0]['tools']>;
    for await (const c of engine.chat.completions.create({ messages: ASK as never, stream: true, tools, tool_choice: 'required', temperature: 0, max_tokens: 120 })) {
      for (const t of c.choices[0].delta.tool_calls ?? []) {
        if (t.id !== undefined) calls[t.index] = { id: t.id, type: 'function', function: { name: t.function!.name!, arguments: '' } };
        calls[t.index].function.arguments += t.function?.arguments ?? '';
      }
      finish = c.choices[0].finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    const w = want.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(calls.map((c) => c.function)).toEqual([w.function]);
  });

  it('a named function: that call, its arguments valid for its schema (sampled)', async () => {
    const validate = new Ajv2020({ strict: false }).compile(WEATHER_PARAMS);
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: 'm', messages: ASK, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_weather' } }, temperature: 1, seed, max_tokens: 120,
      });
      const call = r.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(r.choices[0].finish_reason).toBe('tool_calls');
      expect(call.function.name).toBe('get_weather');
      const args: unknown = JSON.parse(call.function.arguments);
      expect(validate(args), `${call.function.arguments} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('a conversation with a past call and its result, and tool_choice none: an answer without calls', async () => {
    const messages: ChatCompletionMessageParam[] = [
      ...ASK,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
    ];
    for (const tool_choice of ['none', 'auto'] as const) {
      const r = await client.chat.completions.create({ model: 'm', messages, tools: TOOLS, tool_choice, temperature: 0, max_tokens: 16 });
      expect(['stop', 'length', 'tool_calls']).toContain(r.choices[0].finish_reason);
      if (tool_choice === 'none') {
        expect(r.choices[0].message.tool_calls).toBeUndefined();
        expect(typeof r.choices[0].message.content).toBe('string');
      }
      // the prompt holds the call and the result as the Qwen3 template renders them
      expect(r.usage!.prompt_tokens).toBeGreaterThan(20);
    }
  });

  it('bad tools / tool_choice / tool_calls: 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ tools: 'x' }, 'tools', /must be an array/],
      [{ tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name', /letters, digits/],
      [{ tools: [{ type: 'retrieval' }] }, 'tools[0]', /only function tools/],
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string', format: 'email' } } }] }, 'tools[0].function.parameters', /format "email"/],
      [{ tools: TOOLS, tool_choice: 'always' }, 'tool_choice', /"auto", "none", "required"/],
      [{ tool_choice: 'required' }, 'tool_choice', /no 'tools'/],
      [{ tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice', /"nope"/],
      [{ tools: TOOLS, tool_choice: 'required', response_format: { type: 'json_object' } }, 'tool_choice', /cannot be combined/],
      [{ messages: [...ASK, { role: 'assistant', content: '', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{bad' } }] }] },
        'messages[1].tool_calls[0].function.arguments', /JSON text/],
    ];
    for (const [body, param, message] of cases) {
      const r = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: ASK, max_tokens: 4, ...body }),
      });
      const j = await r.json() as { error: { message: string; param: string | null } };
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(j.error.param, JSON.stringify(body)).toBe(param);
      expect(j.error.message).toMatch(message);
    }
    // and through the client: a BadRequestError with the param
    const e = await client.chat.completions.create({ model: 'm', messages: ASK, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tool_choice');
  });
});
