// JSON schema → grammar: on compact JSON written in the schema's property order, the grammar
// accepts exactly what ajv (a real JSON Schema 2020-12 validator) accepts; what we cannot enforce
// or what is malformed is a GRAMMAR error that names the keyword.
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseGBNF } from '../../../src/engine/grammar/gbnf-parse.ts';
import { schemaToGBNF } from '../../../src/engine/grammar/json-schema.ts';
import { GrammarMatcher } from '../../../src/engine/grammar/matcher.ts';
import { EngineError } from '../../../src/shared/errors.ts';
import { SCHEMAS } from './schema-cases.ts';

const matcher = (schema: unknown) => new GrammarMatcher(parseGBNF(schemaToGBNF(schema)));

/** Values in schema property order, valid and not. */
const VALUES: Record<string, unknown[]> = {
  'nested object, enum, pattern, additionalProperties false': [
    { name: 'Lily', age: 7, address: { city: 'Oslo', zip: '01234' } },
    { name: 'a "q" \\ é', age: 120, address: { city: 'Lima', zip: '99999' } },
    { name: 'Lily', age: 121, address: { city: 'Oslo', zip: '01234' } },
    { name: 'Lily', age: -1, address: { city: 'Oslo', zip: '01234' } },
    { name: 'Lily', age: 7, address: { city: 'Rome', zip: '01234' } },
    { name: 'Lily', age: 7, address: { city: 'Oslo', zip: '1234' } },
    { name: 'a'.repeat(17), age: 7, address: { city: 'Oslo', zip: '01234' } },
    { name: 'Lily', age: 7, address: { city: 'Oslo', zip: '01234', extra: 1 } },
    { name: 'Lily', age: 7 },
  ],
  'array of bounded integers, 2 to 4 items': [[1, 2], [-5, 5, 0, 3], [1], [1, 2, 3, 4, 5], [6, 1], [1.5, 2], ['1', 2]],
  'anyOf number / boolean / null / short string': [{ value: 1.25e3 }, { value: true }, { value: null }, { value: 'abcdef' }, { value: 'abcdefg' }, { value: [] }, {}],
  'numbers and integers': [{ x: -0.5, n: 3, big: 1000 }, { x: 1, n: -7, big: 123456 }, { x: 1, n: 1.5, big: 1000 }, { x: 1, n: 1, big: 999 }, { x: 1, n: 1, big: 123457 }],
  'string patterns with groups and alternation': [
    { code: 'AB-123', id: 'ab' }, { code: 'AB-123-xyz', id: 'cabcx' }, { code: 'ab-123', id: 'ab' }, { code: 'AB-123-', id: 'c' },
    { code: 'AB-123', id: 'abababcab' }, { code: 'AB-123', id: 'x' }, { code: 'AB-1234', id: 'c' },
  ],
  'optional properties, const, mixed enum, min/max length': [
    { kind: 'story' }, { kind: 'story', mood: 1 }, { kind: 'story', mood: null, title: 'ab', tags: [] }, { kind: 'story', tags: ['a', 'bb'] },
    { kind: 'poem' }, { kind: 'story', mood: 2 }, { kind: 'story', title: 'a' }, { kind: 'story', tags: ['a', 'b', 'c'] }, { mood: 1 },
  ],
  '$ref into $defs, oneOf of objects': [
    { from: { x: 1, y: 2 }, to: { x: 0, y: 99 } }, { from: { x: 1, y: 2 }, to: { name: 'home' } },
    { from: { x: 100, y: 2 }, to: { name: 'home' } }, { from: { x: 1 }, to: { name: 'home' } }, { from: { x: 1, y: 2 }, to: {} },
  ],
  'tuple (prefixItems) and type array': [[true, 2, 'a'], [false, null, 'b'], [true, 4, 'a'], [true, 2, 'c'], [true, 2], ['true', 2, 'a']],
};

describe('the grammar accepts what ajv accepts', () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(name, () => {
      const m = matcher(schema);
      const validate = ajv.compile(schema);
      const values = VALUES[name];
      expect(values.some((v) => validate(v)) && values.some((v) => !validate(v))).toBe(true);
      for (const v of values) {
        const text = JSON.stringify(v);
        expect(m.matchesString(text), text).toBe(validate(v));
      }
    });
  }

  it('whitespace as llama.cpp allows it: a space or up to two newlines and 20 tabs/spaces between tokens, none outside', () => {
    const m = matcher({ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] });
    expect(m.matchesString('{ "a" : 1 }')).toBe(true);
    expect(m.matchesString('{\n\n\t\t"a":\n  1\n}')).toBe(true);
    expect(m.matchesString('{\n\n\n"a":1}')).toBe(false);
    expect(m.matchesString(' {"a":1}')).toBe(false);
    expect(m.matchesString('{"a":1} ')).toBe(false);
  });

  it('additional properties: any other name, never a declared one twice', () => {
    const m = matcher({ type: 'object', properties: { ab: { type: 'integer' } }, additionalProperties: { type: 'boolean' } });
    for (const s of ['{"ab":1,"a":true}', '{"ab":1,"abc":false}', '{"x":true}', '{"":true}', '{"\\u0041":true}', '{}']) expect(m.matchesString(s), s).toBe(true);
    for (const s of ['{"ab":1,"ab":true}', '{"ab":true}', '{"x":1}', '{"\\q":true}']) expect(m.matchesString(s), s).toBe(false);
    expect(matcher({ type: 'object' }).matchesString('{"any": [1, {"b": null}]}')).toBe(true);
  });

  it('formats: date, time, date-time, uuid', () => {
    expect(matcher({ type: 'string', format: 'date' }).matchesString('"2024-02-29"')).toBe(true);
    expect(matcher({ type: 'string', format: 'date' }).matchesString('"2024-13-01"')).toBe(false);
    expect(matcher({ type: 'string', format: 'date-time' }).matchesString('"2024-02-29T23:59:01.123Z"')).toBe(true);
    expect(matcher({ type: 'string', format: 'time' }).matchesString('"24:00:00Z"')).toBe(false);
    expect(matcher({ type: 'string', format: 'uuid' }).matchesString('"123e4567-e89b-12d3-a456-426614174000"')).toBe(true);
  });

  it('integer ranges across digit counts and signs', () => {
    const m = matcher({ type: 'integer', minimum: -105, maximum: 1234 });
    for (let v = -120; v <= 1300; v++) expect(m.matchesString(String(v)), String(v)).toBe(v >= -105 && v <= 1234);
    expect(m.matchesString('007')).toBe(false);
    expect(m.matchesString('-0')).toBe(false);
  });
});

describe('what cannot be enforced, or is malformed, is a GRAMMAR error naming it', () => {
  const cases: [unknown, RegExp][] = [
    [{ not: { type: 'string' } }, /"not"/],
    [{ allOf: [{ type: 'string' }] }, /"allOf"/],
    [{ if: {}, then: {} }, /"if"/],
    [{ type: 'array', uniqueItems: true }, /"uniqueItems"/],
    [{ type: 'object', minProperties: 1 }, /"minProperties"/],
    [{ type: 'object', patternProperties: { '^a': {} } }, /"patternProperties"/],
    [{ type: 'number', multipleOf: 2 }, /"multipleOf"/],
    [{ type: 'number', minimum: 0 }, /"minimum" on a number/],
    [{ type: 'string', format: 'email' }, /format "email"/],
    [{ type: 'string', pattern: 'abc' }, /no \^…\$ anchors/],
    [{ type: 'string', pattern: '^a(?=b)$' }, /group other than/],
    [{ type: 'string', pattern: '^\\bx$' }, /escape \\b/],
    [{ type: 'string', pattern: '^[a"]$' }, /quote, backslash/],
    [{ type: 'string', pattern: '^(a$' }, /not a valid regular expression/],
    [{ $ref: 'http://example.com/s.json' }, /\$ref/],
    [{ $ref: '#/$defs/missing' }, /cannot resolve \$ref/],
    [{ type: 'array', prefixItems: [{}], items: { type: 'string' } }, /"items" after "prefixItems"/],
    [{ type: 'object', properties: { a: {} }, required: ['b'] }, /"required" naming "b"/],
    [{ type: 'object', anyOf: [{}], properties: {} }, /next to "anyOf"/],
    [{ enum: [] }, /non-empty array/],
    [{ type: 'text' }, /unknown type "text"/],
    [{ type: 'array', minItems: -1 }, /minItems: must be a whole number/],
    [{ type: 'string', minLength: 3, maxLength: 2 }, /below the minimum/],
    [{ type: 'integer', minimum: 5, maximum: 4 }, /no integer lies between/],
    [[1], /must be an object/],
    [{ $defs: { a: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' }, /left-recursive/],
  ];
  for (const [schema, message] of cases) {
    it(JSON.stringify(schema), () => {
      let err: unknown;
      try {
        parseGBNF(schemaToGBNF(schema));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('GRAMMAR');
      expect((err as EngineError).message).toMatch(message);
    });
  }
});
