// `generate --json-schema FILE` and `--grammar FILE`, run as a user runs them (a child process) on
// stories260K: the answer validates with ajv (an independent JSON Schema validator), llama.cpp's own
// grammar files shape it, and a bad file is a typed error naming the file, before anything loads.
import Ajv2020 from 'ajv/dist/2020.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { cli } from './run-cli.ts';
import { llamaCppSourceText } from '../tokenizer/llama-cpp-models.ts';

const stories = fixture('models', 'stories260K.gguf');
const dir = mkdtempSync(path.join(tmpdir(), 'cli-constraint-'));

const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!) as { text: string; finishReason: string };

/**
 * A prefix of some JSON text, judged by V8's own parser: it fails only because the input ran out
 * (at the very end), never at a character inside.
 */
function isJsonPrefix(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch (e) {
    const m = /at position (\d+)/.exec((e as Error).message);
    return /Unexpected end of JSON input/.test((e as Error).message) || (!!m && Number(m[1]) === text.length);
  }
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 20 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    pets: { type: 'array', items: { enum: ['cat', 'dog', 'fish'] }, maxItems: 3 },
  },
  required: ['name', 'age', 'pets'],
  additionalProperties: false,
};

describe('generate --json-schema FILE', () => {
  const schemaFile = file('person.schema.json', JSON.stringify(SCHEMA, null, 2));
  const validate = new Ajv2020({ strict: true }).compile(SCHEMA);

  it('prints JSON that validates against the schema (greedy, as people see it)', async () => {
    const r = await cli('generate', '--model', stories, '--prompt', 'Once upon a time', '--json-schema', schemaFile,
      '--max-tokens', '300', '--temperature', '0', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/; stop\]/);
    const value: unknown = JSON.parse(r.stdout);
    expect(validate(value), `${r.stdout}\n${JSON.stringify(validate.errors)}`).toBe(true);
  });

  it('sampled answers validate too (--json contract)', async () => {
    for (const seed of ['1', '2']) {
      const r = await cli('generate', '--model', stories, '--prompt', 'Lily', '--json-schema', schemaFile,
        '--max-tokens', '300', '--temperature', '1', '--seed', seed, '--json', '--threads', '1');
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r.stdout);
      expect(j.finishReason, j.text).toBe('stop');
      expect(validate(JSON.parse(j.text)), `${j.text}\n${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('without it the same command prints a story, not JSON', async () => {
    const r = await cli('generate', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0', '--json');
    expect(() => JSON.parse(lastJson(r.stdout).text)).toThrow();
  });
});

describe("generate --grammar FILE (llama.cpp's grammars)", () => {
  it('json.gbnf: a JSON object (or, cut by --max-tokens, the start of one)', async () => {
    const g = file('json.gbnf', llamaCppSourceText('grammars/json.gbnf'));
    for (const [prompt, seed] of [['Once upon a time', '1'], ['Lily', '2']]) {
      const r = await cli('generate', '--model', stories, '--prompt', prompt, '--grammar', g,
        '--max-tokens', '120', '--temperature', '1', '--seed', seed, '--json', '--threads', '1');
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r.stdout);
      // this story model rarely closes a string, so most answers run to the limit
      expect(j.text, j.text).toMatch(/^\{/);
      if (j.finishReason === 'stop') expect(typeof JSON.parse(j.text)).toBe('object');
      else expect(isJsonPrefix(j.text), j.text).toBe(true);
      expect(isJsonPrefix(`{]${j.text.slice(1)}`), 'the check itself can fail').toBe(false);
    }
  });

  it('list.gbnf: "- " lines', async () => {
    const g = file('list.gbnf', llamaCppSourceText('grammars/list.gbnf'));
    for (const seed of ['1', '7']) {
      const r = await cli('generate', '--model', stories, '--prompt', 'Once upon a time', '--grammar', g,
        '--max-tokens', '60', '--temperature', '1', '--seed', seed, '--json', '--threads', '1');
      expect(r.code, r.stderr).toBe(0);
      const j = lastJson(r.stdout);
      // the grammar's language, written independently as a regular expression (cut by --max-tokens: a prefix of it)
      const re = j.finishReason === 'stop' ? /^(- [^\r\n\x0b\x0c\x85\u2028\u2029]+\n)+$/ : /^(- [^\r\n\x0b\x0c\x85\u2028\u2029]+\n)*(- ?[^\r\n\x0b\x0c\x85\u2028\u2029]*)?$/;
      expect(j.text, j.finishReason).toMatch(re);
      expect(j.text.length).toBeGreaterThan(2);
    }
  });
});

describe('a bad constraint file: a typed error naming the file, exit 2, nothing loaded', () => {
  it('malformed grammar, bad JSON, unsupported schema, missing file, misuse', async () => {
    const cases: [string[], RegExp][] = [
      [['--grammar', file('broken.gbnf', 'root ::= "yes" | "no\n')], /^error: --grammar .*broken\.gbnf: .*unterminated string/m],
      [['--grammar', file('undefined-rule.gbnf', 'root ::= item+\n')], /^error: --grammar .*undefined-rule\.gbnf: .*item/m],
      [['--json-schema', file('broken.json', '{"type": "object",')], /^error: --json-schema .*broken\.json: not valid JSON/m],
      [['--json-schema', file('email.json', '{"type":"string","format":"email"}')], /^error: --json-schema .*email\.json: .*format "email"/m],
      [['--json-schema', path.join(dir, 'missing.json')], /^error: --json-schema .*missing\.json: cannot read it \(ENOENT\)/m],
      [['--grammar', 'a.gbnf', '--json-schema', 'b.json'], /only one of --grammar FILE and --json-schema FILE/],
    ];
    for (const [extra, re] of cases) {
      // a model path that does not exist: the constraint error comes first, before any model is opened
      const r = await cli('generate', '--model', path.join(dir, 'no-model.gguf'), '--prompt', 'x', ...extra);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      expect(r.stderr).not.toMatch(/internal error|    at /);
      expect(r.stdout).toBe('');
    }
    const t = await cli('tokenize', '--model', stories, '--text', 'x', '--grammar', 'a.gbnf');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--grammar and --json-schema are for generate/);
  });
});
