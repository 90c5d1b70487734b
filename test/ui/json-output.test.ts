// The chat's JSON output option (ui/state/json-output.ts): what it sends, what it refuses (the
// engine's own compiler decides, worded as the worker would), and which copy two tabs keep.
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { keepNewerOptions, mergeConversation } from '../../src/ui/state/conversation-merge.ts';
import type { Conversation } from '../../src/ui/state/conversations.ts';
import { checkJsonOutput } from '../../src/ui/state/json-output.ts';

describe('checkJsonOutput', () => {
  it('empty box: any JSON object; a schema: json_schema, strict', () => {
    expect(checkJsonOutput({ on: true, schema: '  \n' }, 'local')).toMatchObject({ ok: true, format: { type: 'json_object' } });
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
    expect(checkJsonOutput({ on: true, schema: JSON.stringify(schema) }, 'local'))
      .toMatchObject({ ok: true, format: { type: 'json_schema', json_schema: { schema, strict: true } } });
  });

  it('not JSON, not a schema object, or a feature the engine lacks: refused with the reason', () => {
    expect(checkJsonOutput({ on: true, schema: '{"type": "obj' }, 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/^The schema is not valid JSON/) });
    expect(checkJsonOutput({ on: true, schema: '[1, 2]' }, 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/is an object/) });
    const email = '{"type": "string", "format": "email"}';
    expect(checkJsonOutput({ on: true, schema: email }, 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/format "email"/) });
    // ajv (a full validator) takes that schema: the refusal is our compiler's, so another engine gets it as typed
    expect(new Ajv2020({ validateFormats: false }).validateSchema(JSON.parse(email))).toBe(true);
    expect(checkJsonOutput({ on: true, schema: email }, 'remote')).toMatchObject({ ok: true, note: expect.stringMatching(/server decides/) });
    expect(checkJsonOutput({ on: true, schema: '{"type": "obj' }, 'remote')).toMatchObject({ ok: false });
  });
});

describe('two tabs and the option', () => {
  const c = (jsonOutput?: Conversation['jsonOutput']): Conversation => ({ id: 'c', title: 't', createdAt: 1, updatedAt: 1, messages: [], ...(jsonOutput ? { jsonOutput } : {}) });
  it('the copy changed last wins, in a save and when a save result comes back', () => {
    const older = { on: true, schema: '{"type":', updatedAt: 5 };
    const newer = { on: true, schema: '{"type": "object"}', updatedAt: 9 };
    expect(mergeConversation(c(newer), c(older)).jsonOutput).toEqual(newer);
    expect(mergeConversation(c(older), c(newer)).jsonOutput).toEqual(newer);
    expect(mergeConversation(c(newer), c()).jsonOutput).toEqual(newer);
    expect(keepNewerOptions(c(older), c(newer)).jsonOutput).toEqual(newer);
    expect(keepNewerOptions(c(newer), c(older)).jsonOutput).toEqual(newer);
  });
});
