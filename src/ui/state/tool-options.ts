// A chat's "Tools" option: a JSON array of OpenAI tool definitions and tool_choice, sent with every
// request. The text is kept as typed, even when it does not parse, so nothing the user wrote is lost;
// it is checked as typed with the engine's own checks (src/worker/tools-check.ts).
import type { EngineKind, Tool, ToolChoice } from '../../worker/api.ts';
import { checkToolsRequest } from '../../worker/tools-check.ts';

export type ToolChoiceSetting = 'auto' | 'none' | 'required';

export interface ToolsOption {
  on: boolean;
  /** the tools as typed: a JSON array of {"type": "function", "function": {…}} */
  tools: string;
  choice: ToolChoiceSetting;
  /** when the option was last changed (ms): the newer copy wins when two tabs saved the chat */
  updatedAt?: number;
}

export const TOOLS_OFF: ToolsOption = { on: false, tools: '', choice: 'auto' };

export type ToolsCheck =
  | { ok: true; tools: Tool[]; choice: ToolChoice; summary: string; note?: string }
  | { ok: false; error: string };

const CHOICE_TEXT: Record<ToolChoiceSetting, string> = {
  auto: 'the model may call them',
  required: 'the model must call one',
  none: 'the model does not see them (none)',
};

/** What the option sends, or why it cannot. */
export function checkToolsOption(o: ToolsOption, engine: EngineKind): ToolsCheck {
  if (engine === 'webllm') return { ok: false, error: 'Tools are not for WebLLM (it refuses them): use this device\'s engine or a server, or turn Tools off.' };
  if (!o.tools.trim()) return { ok: false, error: 'Add at least one tool: a JSON array of {"type": "function", "function": {"name": …, "parameters": {…}}}.' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(o.tools);
  } catch (e) {
    return { ok: false, error: `The tools are not valid JSON: ${(e as Error).message}` };
  }
  if (Array.isArray(parsed) && parsed.length === 0) return { ok: false, error: 'The tools array is empty: add at least one tool.' };
  const r = checkToolsRequest(parsed, o.choice);
  const summary = (tools: readonly { function: { name: string } }[]): string =>
    `${tools.length} tool${tools.length === 1 ? '' : 's'} (${tools.map((t) => t.function.name).join(', ')}); ${CHOICE_TEXT[o.choice]}.`;
  if (r.ok) return { ok: true, tools: r.tools, choice: r.choice, summary: summary(r.tools) };
  // a parameters schema our grammar compiler refuses may work on a server: sent as typed, with a note
  if (engine === 'remote' && r.param.endsWith('.function.parameters') && Array.isArray(parsed) && wellFormed(parsed)) {
    const tools = parsed as Tool[];
    return { ok: true, tools, choice: o.choice, summary: summary(tools), note: `This device's engine could not use it (${r.error.message}); the server decides.` };
  }
  return { ok: false, error: r.error.message };
}

/** Every entry a function tool with a name and an object schema (what the server gets to judge). */
function wellFormed(tools: unknown[]): boolean {
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  return tools.every((t) => obj(t) && t.type === 'function' && obj(t.function) && typeof t.function.name === 'string'
    && (t.function.parameters === undefined || obj(t.function.parameters)));
}

/** The newer of two copies of the option (undefined when neither has one). */
export function newerToolsOption(a: ToolsOption | undefined, b: ToolsOption | undefined): ToolsOption | undefined {
  if (!a || !b) return a ?? b;
  return (b.updatedAt ?? 0) > (a.updatedAt ?? 0) ? b : a;
}
