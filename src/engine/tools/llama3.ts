// Llama 3.1 / 3.2 / 3.3 tool calls (llama.cpp's Llama 3.x format): the answer is a JSON object
// `{"name": …, "parameters": {…}}` (several may follow each other, separated by `;`), or such an
// object after `<|python_tag|>` (a control token, shown to the parser only: see `markers`). A bare
// object counts at the start of the answer only (as llama.cpp).
// Meta's built-in tools (`<|python_tag|>brave_search.call(query="…")`) are not parsed.
import { callFromObject, callGrammar, readJson, skipSpace, type ToolFormat } from './format.ts';
import type { ParsedCall } from './types.ts';

const TAG = '<|python_tag|>';

function readCalls(text: string, start: number): { calls: ParsedCall[]; end: number } | null {
  let i = text.startsWith(TAG, start) ? start + TAG.length : start;
  const calls: ParsedCall[] = [];
  let end = start;
  for (;;) {
    i = skipSpace(text, i);
    const j = readJson(text, i);
    const call = j && callFromObject(j.value, ['parameters', 'arguments']);
    if (!j || !call) break;
    calls.push(call);
    end = j.end;
    i = skipSpace(text, j.end);
    if (text[i] === ';') i++;
  }
  return calls.length ? { calls, end } : null;
}

export const llama3Format: ToolFormat = {
  name: 'llama3',
  openers: [TAG],
  markers: [TAG],
  leading: ['{'],
  readCalls,
  head: /(?:<\|python_tag\|>)?\s*/y,
  write: (calls) => calls.map((c) => JSON.stringify({ name: c.name, parameters: JSON.parse(c.arguments) })).join('; '),
  grammar: (tools) => `root ::= call\n${callGrammar(tools, 'parameters')}`,
};
