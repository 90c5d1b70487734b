// Mistral (Nemo, Small 3.x, Devstral) tool calls: `[TOOL_CALLS][{"name": …, "arguments": {…}, "id": "…"}, …]`
// (llama.cpp's Mistral Nemo format, detected from `[TOOL_CALLS]` in the template). `[TOOL_CALLS]` is a
// control token in Mistral's v3 vocabularies (shown to the parser only: see `markers`); a JSON array of
// calls at the start of the answer counts too. Ids are 9 alphanumerics: the templates refuse others.
import { callFromObject, callGrammar, readJson, skipSpace, type ToolFormat } from './format.ts';
import type { ParsedCall } from './types.ts';

const TAG = '[TOOL_CALLS]';

function readCalls(text: string, start: number): { calls: ParsedCall[]; end: number } | null {
  const i = skipSpace(text, text.startsWith(TAG, start) ? start + TAG.length : start);
  const j = readJson(text, i);
  if (!j) return null;
  const list = Array.isArray(j.value) ? j.value : [j.value];
  const calls = list.map((v) => callFromObject(v, ['arguments', 'parameters']));
  if (calls.length === 0 || calls.some((c) => c === null)) return null;
  return { calls: calls as ParsedCall[], end: j.end };
}

export const mistralFormat: ToolFormat = {
  name: 'mistral',
  openers: [TAG],
  markers: [TAG],
  leading: ['[{'],
  readCalls,
  write: (calls) => `${TAG}${JSON.stringify(calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments), ...(c.id ? { id: c.id } : {}) })))}`,
  grammar: (tools) => `root ::= "[TOOL_CALLS][" call "]"\n${callGrammar(tools, 'arguments')}`,
  idLength: 9,
};
