// Phi-4-mini tool calls. Its template takes the tools as JSON text in the system message's `tools`
// field (`<|system|>…<|tool|>[…]<|/tool|><|end|>`) and renders neither past calls nor results
// specially. The model answers `<|tool_call|>[{"name": …, "arguments": {…}}]<|/tool_call|>` (its
// vocabulary's tool-call tokens, as in llama.cpp's unmerged Phi-4 PR #12288); vLLM's Phi-4-mini parser reads
// `functools[…]` instead, which is accepted too, as is a bare array at the start (where the markers
// are control tokens they are shown to the parser only: see `markers`).
import { callFromObject, callGrammar, readJson, skipSpace, type ToolFormat } from './format.ts';
import type { ParsedCall } from './types.ts';

const OPEN = '<|tool_call|>';
const CLOSE = '<|/tool_call|>';
const VLLM = 'functools';

function readCalls(text: string, start: number): { calls: ParsedCall[]; end: number } | null {
  let i = start;
  if (text.startsWith(OPEN, i)) i += OPEN.length;
  else if (text.startsWith(VLLM, i)) i += VLLM.length;
  const j = readJson(text, skipSpace(text, i));
  if (!j) return null;
  const list = Array.isArray(j.value) ? j.value : [j.value];
  const calls = list.map((v) => callFromObject(v, ['arguments', 'parameters']));
  if (calls.length === 0 || calls.some((c) => c === null)) return null;
  let end = j.end;
  const k = skipSpace(text, end);
  if (text.startsWith(CLOSE, k)) end = k + CLOSE.length;
  else if (text.startsWith(OPEN, start) && k < text.length) return null;
  return { calls: calls as ParsedCall[], end };
}

export const phi4Format: ToolFormat = {
  name: 'phi4',
  openers: [OPEN, `${VLLM}[`],
  markers: [OPEN, CLOSE],
  leading: ['[{'],
  readCalls,
  head: /(?:<\|tool_call\|>|functools)?\s*\[\s*/y,
  write: (calls) => `${OPEN}${JSON.stringify(calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) })))}${CLOSE}`,
  grammar: (tools) => `root ::= "<|tool_call|>[" call "]<|/tool_call|>"\n${callGrammar(tools, 'arguments')}`,
};
