// The worker API's response_format / json_schema / grammar reach the session: through the engine
// service (what the worker exposes to the app) on stories260K, the streamed answer validates with
// ajv, and a bad schema is a GRAMMAR error before any chunk streams.
import 'fake-indexeddb/auto';
import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionParams } from '../../src/worker/api.ts';
import { EngineService } from '../../src/worker/engine-service.ts';
import { fixture } from '../fixtures.ts';
import { hostModels, type ModelHost } from './model-host.ts';

let host: ModelHost;
let svc: EngineService;
beforeAll(async () => {
  host = await hostModels({ 'stories.gguf': readFileSync(fixture('models', 'stories260K.gguf')) });
  svc = new EngineService();
  await svc.loadModel(host.ref('stories.gguf'), { backend: 'wasm', threads: 1 });
});
afterAll(async () => { await svc?.unloadModel(); await host?.close(); });

const SCHEMA = {
  type: 'object',
  properties: { title: { type: 'string', maxLength: 24 }, stars: { type: 'integer', minimum: 1, maximum: 5 } },
  required: ['title', 'stars'],
  additionalProperties: false,
};

async function answer(extra: Partial<ChatCompletionParams>): Promise<{ text: string; finish: string | null; chunks: number }> {
  const chunks: ChatCompletionChunk[] = [];
  await svc.completion(`r${Math.random()}`, {
    messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 200, ...extra,
  }, (c) => chunks.push(c));
  return { text: chunks.map((c) => c.choices[0].delta.content ?? '').join(''), finish: chunks.at(-1)!.choices[0].finish_reason, chunks: chunks.length };
}

describe('constraints through the worker API', () => {
  const validate = new Ajv2020({ strict: true }).compile(SCHEMA);

  it('response_format json_schema (strict), greedy and sampled: the answer validates', async () => {
    for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 5 }]) {
      const r = await answer({ ...sampling, response_format: { type: 'json_schema', json_schema: { name: 'review', schema: SCHEMA, strict: true } } });
      expect(r.finish, r.text).toBe('stop');
      expect(validate(JSON.parse(r.text)), `${r.text}\n${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("llama-server's json_schema field, and response_format json_object", async () => {
    const a = await answer({ temperature: 1, seed: 9, json_schema: SCHEMA });
    expect(validate(JSON.parse(a.text)), a.text).toBe(true);
    const b = await answer({ temperature: 0, max_tokens: 300, response_format: { type: 'json_object' } });
    expect(b.text).toMatch(/^\{/);
    if (b.finish === 'stop') expect(typeof JSON.parse(b.text)).toBe('object');
  });

  it('grammar: the answer is in the language', async () => {
    const r = await answer({ temperature: 1, seed: 3, grammar: 'root ::= ("yes" | "no") "."' });
    expect(['yes.', 'no.']).toContain(r.text);
  });

  it('without a constraint the same request is a story', async () => {
    const r = await answer({ temperature: 0, max_tokens: 30 });
    expect(() => JSON.parse(r.text)).toThrow();
  });

  it('an unsupported schema: a GRAMMAR error, no chunk streamed, and the model still answers', async () => {
    const chunks: ChatCompletionChunk[] = [];
    const e = await svc.completion('bad', {
      messages: [{ role: 'user', content: 'x' }], stream: true,
      response_format: { type: 'json_schema', json_schema: { schema: { type: 'string', format: 'email' } } },
    }, (c) => chunks.push(c)).then(() => null, (x: unknown) => x);
    expect(e).toMatchObject({ code: 'GRAMMAR', message: expect.stringMatching(/format "email"/) });
    expect(chunks).toEqual([]);
    expect((await answer({ temperature: 0, max_tokens: 4 })).chunks).toBeGreaterThan(0);
  });
});
