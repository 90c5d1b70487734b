// A chat's "JSON output" option: on, the answer is constrained to JSON — any object (an empty schema
// box: response_format json_object) or the typed schema (json_schema, strict). The schema text is
// kept as typed, even when it does not parse, so nothing the user wrote is lost.
import type { EngineKind } from '../../worker/api.ts';
import { checkResponseFormat, type ResponseFormat } from '../../worker/response-format.ts';

export interface JsonOutput {
  on: boolean;
  /** the schema as typed; empty = any JSON object */
  schema: string;
  /** when the option was last changed (ms): the newer copy wins when two tabs saved the chat */
  updatedAt?: number;
}

export type JsonOutputCheck =
  | { ok: true; format: ResponseFormat; summary: string; note?: string }
  | { ok: false; error: string };

/** What the option sends, or why it cannot: checked with this device's compiler. */
export function checkJsonOutput(o: JsonOutput, engine: EngineKind): JsonOutputCheck {
  if (!o.schema.trim()) return { ok: true, format: { type: 'json_object' }, summary: 'The answer is a JSON object (any).' };
  let schema: unknown;
  try {
    schema = JSON.parse(o.schema);
  } catch (e) {
    return { ok: false, error: `The schema is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    return { ok: false, error: 'A JSON schema is an object, such as {"type": "object", "properties": {…}}.' };
  }
  const format: ResponseFormat = { type: 'json_schema', json_schema: { name: 'schema', schema, strict: true } };
  const e = checkResponseFormat(format);
  const summary = 'The answer follows this schema (strict).';
  if (!e) return { ok: true, format, summary };
  // another engine compiles the schema itself: what ours refuses may work there, so it is sent as typed
  if (engine !== 'local') return { ok: true, format, summary, note: `This device's engine could not use it (${e.message}); the ${engine === 'remote' ? 'server' : 'WebLLM engine'} decides.` };
  return { ok: false, error: e.message };
}

/** The newer of two copies of the option (undefined when neither has one). */
export function newerJsonOutput(a: JsonOutput | undefined, b: JsonOutput | undefined): JsonOutput | undefined {
  if (!a || !b) return a ?? b;
  return (b.updatedAt ?? 0) > (a.updatedAt ?? 0) ? b : a;
}
