// Tools and tool turns into a chat template, the way llama.cpp (minja's capability probes and
// polyfills) does it: the template is probed once for what it renders itself — the `tools` variable,
// past `tool_calls` (and whether it wants their arguments as an object, as Llama 3.x's and Mistral's
// `tojson` do, or as the JSON string), `tool` messages — and what it does not render is written in:
// the tools described in the system prompt (llama.cpp's fallback for templates without tools), calls
// as the family's own syntax in the assistant's content, results as a user message
// `{"tool_response": {"tool": …, "content": …}}`.
import type { ToolFormat } from './format.ts';
import type { Tool, ToolCall } from './types.ts';

/** A message as the renderer gets it (the engine's ChatMessage, tool fields included). */
export interface ToolAwareMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  reasoning_content?: string;
  tool_calls?: readonly ToolCall[];
  tool_call_id?: string;
  /** a tool message's function name */
  name?: string;
}

export interface ToolCaps {
  tools: boolean;
  toolCalls: boolean;
  objectArguments: boolean;
  toolResponses: boolean;
}

/** Renders the template with these variables; null when it fails. */
export type ProbeRender = (vars: { messages: unknown[]; tools?: unknown[] }) => string | null;

const PROBE_TOOL = 'probe_tool_4f2a';
const NEEDLE = 'argument_needle';
const RESPONSE = 'tool_response_needle_9c1e';
const PROBE_TOOLS = [{
  type: 'function',
  function: { name: PROBE_TOOL, description: 'Tool description', parameters: { type: 'object', properties: { arg: { type: 'string' } }, required: ['arg'] } },
}];

const probeCall = (args: unknown) => ({
  role: 'assistant', content: '',
  // 9 characters: Mistral's templates refuse other ids (llama.cpp probes with the same one)
  tool_calls: [{ id: 'call00001', type: 'function', function: { name: PROBE_TOOL, arguments: args } }],
});

export function probeToolCaps(render: ProbeRender): ToolCaps {
  const user = { role: 'user', content: 'User message' };
  const tools = render({ messages: [user], tools: PROBE_TOOLS })?.includes(PROBE_TOOL) ?? false;
  const extra = tools ? { tools: PROBE_TOOLS } : {};
  const rendersArgs = (out: string | null) => out !== null && (out.includes(`"${NEEDLE}":`) || out.includes(`'${NEEDLE}':`));
  const args = { [NEEDLE]: "print('Hello, World!')" };
  const asString = rendersArgs(render({ messages: [user, probeCall(JSON.stringify(args))], ...extra }));
  const asObject = rendersArgs(render({ messages: [user, probeCall(args)], ...extra }));
  const toolCalls = asString || asObject;
  const objectArguments = !asString && asObject;
  const call = probeCall(objectArguments ? args : JSON.stringify(args));
  const out = render({
    messages: [user, call, { role: 'tool', content: RESPONSE, tool_call_id: 'call00001', name: PROBE_TOOL }], ...extra,
  });
  return { tools, toolCalls, objectArguments, toolResponses: out?.includes(RESPONSE) ?? false };
}

/** The tools as a system prompt, for templates that do not render `tools` (minja's polyfill wording). */
export function toolsSystemText(tools: readonly Tool[], format: ToolFormat): string {
  const example = format.write([{ name: 'tool_name', arguments: JSON.stringify({ arg1: 'some_value' }) }]);
  return `You can call any of the following tools to satisfy the user's requests: ${JSON.stringify(tools, null, 2)}\n\n`
    + `Example tool call syntax:\n\n${example}\n\n`;
}

/**
 * The messages and the `tools` variable as this template should get them. Phi-4-mini's template
 * reads the tools from the system message's `tools` field (JSON text of the functions) instead.
 */
export function toolTemplateInput(messages: readonly ToolAwareMessage[], tools: readonly Tool[] | undefined, caps: ToolCaps,
  format: ToolFormat, source: string): { messages: Record<string, unknown>[]; tools?: Tool[] } {
  let list: Record<string, unknown>[] = [];
  for (const m of messages) {
    const t = templateMessage(m, caps, format);
    // results written as user turns join a user turn next to them: templates that insist on
    // alternating roles (Gemma's, Mistral's) would refuse two in a row
    const prev = list[list.length - 1];
    if (m.role === 'tool' && t.role === 'user' && prev?.role === 'user' && !prev.tool_calls) {
      list[list.length - 1] = { ...prev, content: `${prev.content as string}\n${t.content as string}`, fromTool: true };
    } else if (m.role === 'user' && prev?.role === 'user' && prev.fromTool) {
      list[list.length - 1] = { ...prev, content: `${prev.content as string}\n${t.content as string}`, fromTool: true };
    } else {
      list.push(m.role === 'tool' && t.role === 'user' ? { ...t, fromTool: true } : t);
    }
  }
  list = list.map(({ fromTool: _, ...rest }) => rest);
  if (!tools?.length) return { messages: list };
  if (caps.tools) return { messages: list, tools: [...tools] };
  if (format.name === 'phi4' && /message\[['"]tools['"]\]/.test(source)) {
    const json = JSON.stringify(tools.map((t) => t.function));
    if (list[0]?.role === 'system') list[0] = { ...list[0], tools: json };
    else list = [{ role: 'system', content: '', tools: json }, ...list];
    return { messages: list };
  }
  const text = toolsSystemText(tools, format);
  if (list[0]?.role === 'system') list[0] = { ...list[0], content: `${text}${list[0].content as string}` };
  else list = [{ role: 'system', content: text.trimEnd() }, ...list];
  return { messages: list };
}

function templateMessage(m: ToolAwareMessage, caps: ToolCaps, format: ToolFormat): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.role === 'assistant' && m.reasoning_content !== undefined) out.reasoning_content = m.reasoning_content;
  if (m.role === 'assistant' && m.tool_calls?.length) {
    if (caps.toolCalls) {
      out.tool_calls = m.tool_calls.map((c) => ({
        id: c.id, type: 'function',
        function: { name: c.function.name, arguments: caps.objectArguments ? parseArgs(c.function.arguments) : c.function.arguments },
      }));
    } else {
      const calls = format.write(m.tool_calls.map((c) => ({ name: c.function.name, arguments: c.function.arguments, id: c.id })));
      out.content = m.content ? `${m.content}\n${calls}` : calls;
    }
  }
  if (m.role === 'tool') {
    if (!caps.toolResponses) {
      return { role: 'user', content: JSON.stringify({ tool_response: { tool: m.name ?? '', content: m.content } }) };
    }
    if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
    if (m.name !== undefined) out.name = m.name;
  }
  return out;
}

function parseArgs(s: string): unknown {
  try { return JSON.parse(s); } catch { return {}; }
}
