// JSON schemas the constrained-decoding tests run on stories260K (ours, ajv, llama-server). Every
// string, number and list is bounded, so each answer ends well inside the token budget.
export const SCHEMAS: Record<string, Record<string, unknown>> = {
  'nested object, enum, pattern, additionalProperties false': {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 16 },
      age: { type: 'integer', minimum: 0, maximum: 120 },
      address: {
        type: 'object',
        properties: { city: { enum: ['Paris', 'Oslo', 'Lima'] }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
        required: ['city', 'zip'],
        additionalProperties: false,
      },
    },
    required: ['name', 'age', 'address'],
    additionalProperties: false,
  },
  'array of bounded integers, 2 to 4 items': {
    type: 'array', items: { type: 'integer', minimum: -5, maximum: 5 }, minItems: 2, maxItems: 4,
  },
  'anyOf number / boolean / null / short string': {
    type: 'object',
    properties: { value: { anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'null' }, { type: 'string', maxLength: 6 }] } },
    required: ['value'],
  },
  'numbers and integers': {
    type: 'object', properties: { x: { type: 'number' }, n: { type: 'integer' }, big: { type: 'integer', exclusiveMinimum: 999 , maximum: 123456 } },
    required: ['x', 'n', 'big'],
  },
  'string patterns with groups and alternation': {
    type: 'object',
    properties: {
      code: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}(-[a-z]{1,4})?$' },
      id: { type: 'string', pattern: '^(ab|c)(ab|c){0,3}x?$' },
    },
    required: ['code', 'id'],
  },
  'optional properties, const, mixed enum, min/max length': {
    type: 'object',
    properties: {
      kind: { const: 'story' },
      mood: { enum: ['happy', 'sad', 1, null] },
      title: { type: 'string', minLength: 2, maxLength: 10 },
      tags: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 2 },
    },
    required: ['kind'],
  },
  '$ref into $defs, oneOf of objects': {
    $defs: { pt: { type: 'object', properties: { x: { type: 'integer', minimum: 0, maximum: 99 }, y: { type: 'integer', minimum: 0, maximum: 99 } }, required: ['x', 'y'] } },
    type: 'object',
    properties: {
      from: { $ref: '#/$defs/pt' },
      to: { oneOf: [{ $ref: '#/$defs/pt' }, { type: 'object', properties: { name: { type: 'string', maxLength: 8 } }, required: ['name'] }] },
    },
    required: ['from', 'to'],
  },
  'tuple (prefixItems) and type array': {
    type: 'array', prefixItems: [{ type: 'boolean' }, { type: ['integer', 'null'], minimum: 1, maximum: 3 }, { enum: ['a', 'b'] }], items: false, minItems: 3,
  },
};
