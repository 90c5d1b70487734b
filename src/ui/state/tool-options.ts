// A chat's "Tools" option: a JSON array of OpenAI tool definitions and tool_choice, sent with every
// request. The text is kept as typed, even when it does not parse, so nothing the user wrote is lost;
// it is checked as typed with the engine's own checks (src/worker/tools-check.ts).
import type { EngineKind, Tool, ToolChoice } from '../../worker/api.ts';
import { checkToolsRequest } from '../../worker/tools-check.ts';

/** As OpenAI's tool_choice (stored as sent): a mode, or one tool by name ({type: 'function', function: {name}}). */
export type ToolChoiceSetting = ToolChoice;

export interface ToolsOption {
  on: boolean;
  /** the tools as typed: a JSON array of {"type": "function", "function": {…}} */
  tools: string;
  choice: ToolChoiceSetting;
  /** when the option was last changed (ms): the newer copy wins when two tabs saved the chat */
  updatedAt?: number;
}

export const TOOLS_OFF: ToolsOption = { on: false, tools: '', choice: 'auto' };

/** The tool a named choice picks; null for auto / none / required. */
export const chosenName = (c: ToolChoiceSetting): string | null => (typeof c === 'object' ? c.function.name : null);

/** The choice that forces the tool `name`. */
export const namedChoice = (name: string): ToolChoiceSetting => ({ type: 'function', function: { name } });

/** The function names of a tools text that parses (as typed: the checks come later), in order; [] otherwise. */
export function toolNames(tools: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(tools);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const names = parsed.map((t: unknown) => (t as { function?: { name?: unknown } } | null)?.function?.name);
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''))];
}

/** The choice as a select's value: the mode, or "fn:" and the name (names cannot hold ':'; the prefix keeps a tool named "auto" apart). */
export const choiceKey = (c: ToolChoiceSetting): string => (typeof c === 'object' ? `fn:${c.function.name}` : c);

export function choiceFromKey(key: string): ToolChoiceSetting {
  if (key.startsWith('fn:')) return namedChoice(key.slice(3));
  return key === 'none' || key === 'required' ? key : 'auto';
}

/** The tools a choice can name: those typed, and the chosen one even when it is gone (the check then says so). */
export function choosableNames(o: ToolsOption): string[] {
  const names = toolNames(o.tools);
  const chosen = chosenName(o.choice);
  return chosen !== null && !names.includes(chosen) ? [...names, chosen] : names;
}

export type ToolsCheck =
  | { ok: true; tools: Tool[]; choice: ToolChoice; summary: string; note?: string }
  | { ok: false; error: string };

const CHOICE_TEXT = {
  auto: 'the model may call them',
  required: 'the model must call one',
  none: 'the model does not see them (none)',
} as const;

const choiceText = (c: ToolChoiceSetting): string => (typeof c === 'object' ? `the model must call ${c.function.name}` : CHOICE_TEXT[c]);

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
    `${tools.length} tool${tools.length === 1 ? '' : 's'} (${tools.map((t) => t.function.name).join(', ')}); ${choiceText(o.choice)}.`;
  if (r.ok) return { ok: true, tools: r.tools, choice: r.choice, summary: summary(r.tools) };
  // a parameters schema our grammar compiler refuses may work on a server: sent as typed, with a note
  if (engine === 'remote' && r.param.endsWith('.function.parameters') && Array.isArray(parsed) && wellFormed(parsed)) {
    const tools = parsed as Tool[];
    const name = chosenName(o.choice);
    if (name !== null && !tools.some((t) => t.function.name === name)) {
      return { ok: false, error: `'tool_choice' names the function ${JSON.stringify(name)}, which is not in 'tools'.` };
    }
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
