// What one family's tool-call syntax needs: where calls start in the output (so streaming holds back
// text that may be a marker), how to read the calls, how to write them (for templates that do not
// render past calls themselves), and the GBNF a forced call (tool_choice required / named) must match.
import { gbnfLiteral, schemaToGBNF } from '../grammar/json-schema.ts';
import type { JSONSchema, ParsedCall, Tool } from './types.ts';

export type ToolFormatName = 'llama3' | 'hermes' | 'mistral' | 'phi4' | 'generic';

export interface Parsed {
  content: string;
  calls: ParsedCall[];
}

export interface ToolFormat {
  name: ToolFormatName;
  /** marker strings that open a call anywhere in the output */
  openers: readonly string[];
  /**
   * the family's marker strings, which some vocabularies have as control tokens (not shown by the
   * detokenizer): those are shown to the parser (llama.cpp's preserved_tokens), and hidden from the answer
   */
  markers: readonly string[];
  /** also a call when the output (after whitespace) starts with one of these (a marker the detokenizer dropped) */
  leading?: readonly string[];
  /**
   * Reads the calls of a complete output from `start` (where an opener or leading text begins).
   * Returns the calls and where they end, or null when the text there is not (yet) a complete call.
   */
  readCalls(text: string, start: number): { calls: ParsedCall[]; end: number } | null;
  /** the calls as the model writes them */
  write(calls: readonly ParsedCall[]): string;
  /** GBNF (with its `root`) of exactly one call of one of `tools`, as this family writes it */
  grammar(tools: readonly Tool[]): string;
  /** tool call ids this family's templates accept (Mistral's want 9 alphanumerics) */
  idLength?: number;
  /**
   * What comes before a call's `{"name": …` at a call start (marker, array bracket), so a stream
   * can announce the call and pass its arguments on as they are generated; absent: calls stream
   * once complete (Mistral's: its id comes after the arguments).
   */
  head?: RegExp;
}

const CALL_HEAD = /\{\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"(?:arguments|parameters)"\s*:\s*(?=\{)/y;

/**
 * The first call of a block whose name is known and whose arguments object has begun: its name,
 * where the call object starts and where its arguments start; null otherwise.
 */
export function callHead(f: ToolFormat, text: string): { name: string; callAt: number; argsAt: number } | null {
  if (!f.head) return null;
  f.head.lastIndex = 0;
  const h = f.head.exec(text);
  if (!h || h.index !== 0) return null;
  CALL_HEAD.lastIndex = h[0].length;
  const m = CALL_HEAD.exec(text);
  if (!m) return null;
  let name: string;
  try { name = JSON.parse(`"${m[1]}"`) as string; } catch { return null; }
  return { name, callAt: h[0].length, argsAt: CALL_HEAD.lastIndex };
}

/** Skips JSON whitespace. */
export function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  return i;
}

/**
 * End (exclusive) of the JSON object or array starting at `i`, by bracket matching outside strings;
 * -1 when the text ends first or `i` holds neither.
 */
export function jsonEnd(text: string, i: number): number {
  if (text[i] !== '{' && text[i] !== '[') return -1;
  let depth = 0;
  let inString = false;
  for (let k = i; k < text.length; k++) {
    const c = text[k];
    if (inString) {
      if (c === '\\') k++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth === 0) return k + 1;
    }
  }
  return -1;
}

/** The JSON value at `i` and where it ends, or null when it is incomplete or not JSON. */
export function readJson(text: string, i: number): { value: unknown; end: number } | null {
  const end = jsonEnd(text, i);
  if (end < 0) return null;
  try {
    return { value: JSON.parse(text.slice(i, end)), end };
  } catch {
    return null;
  }
}

/** {"name": "...", "<argsKey>": {...}} → a call; null when the object is not one. */
export function callFromObject(v: unknown, argsKeys: readonly string[]): ParsedCall | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string') return null;
  const key = argsKeys.find((k) => k in o);
  let args = key === undefined ? {} : o[key];
  // some models write the arguments as a JSON string
  if (typeof args === 'string') {
    try { args = JSON.parse(args); } catch { return null; }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return null;
  const call: ParsedCall = { name: o.name, arguments: JSON.stringify(args) };
  if (typeof o.id === 'string') call.id = o.id;
  return call;
}

/** Arguments for writing: the JSON text parsed back to a value (it is always an object). */
export function argsValue(c: ParsedCall): unknown {
  try { return JSON.parse(c.arguments); } catch { return {}; }
}

/**
 * Grammar rules for `{"name": "<tool>", "<argsKey>": <parameters>}` of each tool, as one GBNF text
 * whose rule `call` is any of them (a JSON schema anyOf, so the JSON layer is llama.cpp's).
 */
export function callGrammar(tools: readonly Tool[], argsKey: string, extra: Record<string, JSONSchema> = {}): string {
  const schema = {
    anyOf: tools.map((t) => ({
      type: 'object',
      properties: { name: { const: t.function.name }, [argsKey]: t.function.parameters ?? { type: 'object' }, ...extra },
      required: ['name', argsKey],
    })),
  };
  // the schema's root becomes `call`; rule names of the schema are kept as they are
  return schemaToGBNF(schema).replace(/^root ::=/m, 'call ::=');
}

export { gbnfLiteral };
