// Hermes 2 Pro / Qwen2.5 / Qwen3 tool calls: `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>`,
// one block per call, anywhere in the answer (llama.cpp's Hermes 2 Pro format, detected from
// `<tool_call>` in the template). Also the format of our generic fallback for templates without tools.
import { callFromObject, callGrammar, readJson, skipSpace, type ToolFormat } from './format.ts';
import type { ParsedCall } from './types.ts';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

function readCalls(text: string, start: number): { calls: ParsedCall[]; end: number } | null {
  const calls: ParsedCall[] = [];
  let i = start;
  let end = start;
  while (text.startsWith(OPEN, i)) {
    const j = readJson(text, skipSpace(text, i + OPEN.length));
    if (!j) return calls.length ? { calls, end } : null;
    const call = callFromObject(j.value, ['arguments', 'parameters']);
    if (!call) return calls.length ? { calls, end } : null;
    let k = skipSpace(text, j.end);
    // a missing close tag at the very end still counts (the stop may have eaten it)
    if (text.startsWith(CLOSE, k)) k += CLOSE.length;
    else if (k < text.length) return calls.length ? { calls, end } : null;
    calls.push(call);
    end = k;
    i = skipSpace(text, k);
  }
  return calls.length ? { calls, end } : null;
}

export function hermesFormat(name: 'hermes' | 'generic' = 'hermes'): ToolFormat {
  return {
    name,
    openers: [OPEN],
    markers: [OPEN, CLOSE],
    head: /<tool_call>\s*/y,
    readCalls,
    write: (calls) => calls.map((c) => `${OPEN}\n${JSON.stringify({ name: c.name, arguments: JSON.parse(c.arguments) })}\n${CLOSE}`).join('\n'),
    grammar: (tools) => `root ::= "<tool_call>\\n" call "\\n</tool_call>"\n${callGrammar(tools, 'arguments')}`,
  };
}
