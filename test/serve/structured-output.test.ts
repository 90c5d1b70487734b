// Structured output over HTTP: `cli serve` takes OpenAI's response_format and llama-server's
// json_schema / grammar, answers greedily with the same text as llama-server on stories260K, and
// turns a bad schema or grammar into a 400 that names the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { startLlamaServer } from '../llama-server.ts';
import { startCliServe, type ServerProcess } from './cli-serve.ts';

const MODEL = fixture('models', 'stories260K.gguf');
const SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 }, pet: { enum: ['cat', 'dog'] } },
  required: ['name', 'age', 'pet'],
};

describe('structured output: cli serve vs llama-server', () => {
  let ours: ServerProcess, theirs: ServerProcess;
  beforeAll(async () => {
    [ours, theirs] = await Promise.all([
      startCliServe({ model: MODEL, args: ['--threads', '1', '--ctx', '512'] }),
      startLlamaServer({ model: MODEL, args: ['-c', '512'] }),
    ]);
  }, 180_000);
  afterAll(async () => { await Promise.all([ours?.stop(), theirs?.stop()]); });

  const post = async (s: ServerProcess, body: Record<string, unknown>) => {
    const r = await fetch(`${s.url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'Once upon a time', max_tokens: 200, temperature: 0, ...body }),
    });
    return { status: r.status, body: await r.json() as { choices?: { text: string; finish_reason: string }[]; error?: { message: string; param: string | null } } };
  };

  it('json_schema and response_format json_schema: the same greedy JSON as llama-server', async () => {
    const want = await post(theirs, { json_schema: SCHEMA });
    expect(want.status).toBe(200);
    for (const body of [{ json_schema: SCHEMA }, { response_format: { type: 'json_schema', json_schema: { name: 'p', schema: SCHEMA, strict: true } } }]) {
      const got = await post(ours, body);
      expect(got.status).toBe(200);
      expect(got.body.choices![0].text).toBe(want.body.choices![0].text);
      expect(got.body.choices![0].finish_reason).toBe('stop');
      expect(JSON.parse(got.body.choices![0].text)).toMatchObject({ pet: expect.stringMatching(/^(cat|dog)$/) });
    }
  });

  it('grammar: the same greedy text as llama-server', async () => {
    const grammar = 'root ::= "The " ("cat" | "dog") " is " [a-z]{3,8} "."';
    const [a, b] = [await post(ours, { grammar }), await post(theirs, { grammar })];
    expect(a.body.choices![0].text).toBe(b.body.choices![0].text);
    expect(a.body.choices![0].text).toMatch(/^The (cat|dog) is [a-z]{3,8}\.$/);
  });

  it('a bad grammar, an unsupported schema keyword, a bad response_format: 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ grammar: 'root ::= "a' }, 'grammar', /unterminated string/],
      [{ json_schema: { type: 'string', format: 'email' } }, 'json_schema', /format "email"/],
      [{ response_format: { type: 'json_schema', json_schema: { schema: { not: {} } } } }, 'response_format', /"not"/],
      [{ response_format: { type: 'yaml' } }, 'response_format', /text, json_object or json_schema/],
    ];
    for (const [body, param, message] of cases) {
      const r = await post(ours, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error!.param).toBe(param);
      expect(r.body.error!.message).toMatch(message);
    }
  });
});
