// Constrained decoding on a real trained model (stories260K, WASM backend): every answer, greedy or
// sampled, parses and validates against its schema with ajv (a real validator, JSON Schema 2020-12),
// and GBNF-constrained answers are in the grammar's language (checked against llama.cpp's files).
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { parseGBNF } from '../../../src/engine/grammar/gbnf-parse.ts';
import { GrammarMatcher } from '../../../src/engine/grammar/matcher.ts';
import { loadModel, type LoadedModel } from '../../../src/engine/load.ts';
import { Session, type GenerateOptions } from '../../../src/engine/session.ts';
import { openNodeFiles } from '../../../src/formats/node-file-source.ts';
import { EngineError } from '../../../src/shared/errors.ts';
import { fixture } from '../../fixtures.ts';
import { llamaCppSourceText } from '../../tokenizer/llama-cpp-models.ts';
import { SCHEMAS } from './schema-cases.ts';

let model: LoadedModel;
beforeAll(async () => {
  model = await loadModel(await openNodeFiles(fixture('models', 'stories260K.gguf')), await createWasmBackend({ threads: 1 }));
});
afterAll(async () => { await model?.dispose(); });

async function answer(prompt: string, opts: GenerateOptions): Promise<{ text: string; finish: string; ids: number[] }> {
  const s = new Session(model);
  for await (const ev of s.generate(s.promptIds(prompt), opts)) {
    if (ev.type === 'done') return { text: ev.text, finish: ev.stats.finishReason, ids: ev.ids };
  }
  throw new Error('no done event');
}

const RUNS = [{ temperature: 0 }, { temperature: 1, seed: 1 }, { temperature: 1, seed: 2 }, { temperature: 1.5, seed: 3, topK: 0, topP: 1, minP: 0 }];

describe('JSON schema answers parse and validate (ajv)', () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(name, async () => {
      const validate = ajv.compile(schema);
      for (const sampling of RUNS) {
        const r = await answer('Once upon a time', { maxTokens: 400, sampling, responseFormat: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } });
        expect(r.finish, `${JSON.stringify(sampling)}: ${r.text}`).toBe('stop');
        const value: unknown = JSON.parse(r.text);
        expect(validate(value), `${JSON.stringify(sampling)}: ${r.text}\n${JSON.stringify(validate.errors)}`).toBe(true);
      }
    });
  }

  it('json_object: an object, whatever the prompt', async () => {
    for (const sampling of RUNS.slice(0, 2)) {
      const r = await answer('The dog', { maxTokens: 500, sampling, responseFormat: { type: 'json_object' } });
      if (r.finish === 'stop') expect(typeof JSON.parse(r.text)).toBe('object');
      else expect(new GrammarMatcher(parseGBNF(llamaCppSourceText('grammars/json.gbnf'))).acceptsPrefix(r.text)).toBe(true);
    }
  });

  it('without a constraint the same prompt is not JSON (the constraint is what makes it so)', async () => {
    const r = await answer('Once upon a time', { maxTokens: 40, sampling: { temperature: 0 } });
    expect(() => JSON.parse(r.text)).toThrow();
  });
});

describe('GBNF answers are in the language', () => {
  for (const name of ['arithmetic', 'chess', 'list', 'json']) {
    it(`${name}.gbnf`, async () => {
      const gbnf = llamaCppSourceText(`grammars/${name}.gbnf`);
      const m = new GrammarMatcher(parseGBNF(gbnf));
      for (const sampling of RUNS.slice(0, 3)) {
        const r = await answer('Once upon a time', { maxTokens: 120, sampling, grammar: gbnf });
        expect(r.ids.length).toBeGreaterThan(0);
        // cut by maxTokens: a prefix of the language; ended by EOG: a whole sentence of it
        if (r.finish === 'stop') expect(m.matchesString(r.text), r.text).toBe(true);
        else expect(m.acceptsPrefix(r.text), r.text).toBe(true);
      }
    });
  }

  it('a grammar that ends the answer: nothing follows the last allowed character', async () => {
    const r = await answer('Once upon a time', { maxTokens: 50, sampling: { temperature: 1, seed: 4 }, grammar: 'root ::= ("yes" | "no") "."' });
    expect(['yes.', 'no.']).toContain(r.text);
    expect(r.finish).toBe('stop');
  });
});

describe('typed errors', () => {
  const code = async (opts: GenerateOptions): Promise<EngineError> => {
    const e = await answer('Hi', opts).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('GRAMMAR');
    return e as EngineError;
  };
  it('a malformed grammar, an unsupported schema keyword, two constraints at once', async () => {
    expect((await code({ grammar: 'root ::= "a' })).message).toMatch(/unterminated string/);
    expect((await code({ jsonSchema: { type: 'object', properties: { a: { type: 'string', format: 'email' } } } })).message).toMatch(/format "email"/);
    expect((await code({ responseFormat: { type: 'json_schema', json_schema: { schema: { type: 'array', uniqueItems: true } } } })).message).toMatch(/"uniqueItems"/);
    expect((await code({ grammar: 'root ::= "a"', jsonSchema: {} })).message).toMatch(/only one of/);
  });
  it('a grammar this vocabulary cannot spell', async () => {
    // an empty code-point set: no token can start the answer
    expect((await code({ grammar: 'root ::= [^\\x00-\\U0010FFFF]' })).message).toMatch(/allows no token/);
  });
});
