// Function calling for the engine: which tool-call format a chat template speaks (found in the
// template text, as llama.cpp detects it), checks of a request's tools / tool_choice, and the grammar
// a forced call is generated under.
import { EngineError } from '../../shared/errors.ts';
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { schemaToGBNF } from '../grammar/json-schema.ts';
import type { ToolFormat } from './format.ts';
import { hermesFormat } from './hermes.ts';
import { llama3Format } from './llama3.ts';
import { mistralFormat } from './mistral.ts';
import { phi4Format } from './phi4.ts';
import type { Tool, ToolChoice } from './types.ts';

export type { ToolFormat, ToolFormatName } from './format.ts';
export { MarkerFilter, parseToolCalls, ToolCallStream, type ParsedOutput, type StreamDelta } from './parse.ts';
export type * from './types.ts';

const HERMES = hermesFormat('hermes');
const GENERIC = hermesFormat('generic');

/**
 * The format of a Jinja template's tool calls; 'generic' (Hermes-style `<tool_call>` blocks, tools
 * described in the system prompt) for templates that know none, MLC conv_templates and plain continuation.
 */
export function detectToolFormat(template: string | null | undefined): ToolFormat {
  const t = template ?? '';
  if (t.includes('[TOOL_CALLS]')) return mistralFormat;
  if (t.includes('<tool_call>')) return HERMES;
  if (t.includes('<|python_tag|>') || t.includes('<|start_header_id|>ipython<|end_header_id|>')) return llama3Format;
  if (t.includes('<|tool|>')) return phi4Format;
  return GENERIC;
}

/**
 * The format's markers that are single control tokens of this vocabulary (Llama 3's `<|python_tag|>`,
 * Mistral v3's `[TOOL_CALLS]`), which the detokenizer does not show: their ids for GenerateOptions.preservedIds,
 * so the parser sees them (as llama.cpp's server renders a format's preserved_tokens), and their texts, to hide from the answer.
 */
export function controlMarkers(format: ToolFormat, tok: Tokenizer): { ids: number[]; texts: string[] } {
  const ids: number[] = [];
  const texts: string[] = [];
  for (const m of format.markers) {
    const id = tok.tokenId(m);
    if (id !== undefined && tok.tokenType(id) === 'control') { ids.push(id); texts.push(m); }
  }
  return { ids, texts };
}

/** A bad `tools` or `tool_choice`: EngineError('TOOLS') naming the parameter, so the server answers 400 with it. */
export class ToolsError extends EngineError {
  constructor(readonly param: string, message: string) {
    super('TOOLS', message);
    this.name = 'ToolsError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `tools` (each parameters schema compiled, so an unsupported one is refused before anything runs). */
export function checkTools(tools: unknown): Tool[] {
  if (!Array.isArray(tools)) throw new ToolsError('tools', `'tools' must be an array of {"type":"function","function":{…}}.`);
  const names = new Set<string>();
  return tools.map((t, i) => {
    const p = `tools[${i}]`;
    if (!isObject(t) || t.type !== 'function' || !isObject(t.function)) {
      throw new ToolsError(p, `'${p}' must be {"type":"function","function":{"name":…}} (only function tools are supported).`);
    }
    const f = t.function;
    if (typeof f.name !== 'string' || !/^[a-zA-Z0-9_.-]{1,64}$/.test(f.name)) {
      throw new ToolsError(`${p}.function.name`, `'${p}.function.name' must be 1–64 letters, digits, '_', '.' or '-' (got ${JSON.stringify(f.name)}).`);
    }
    if (names.has(f.name)) throw new ToolsError(`${p}.function.name`, `'${p}.function.name': ${f.name} is given twice.`);
    names.add(f.name);
    if (f.description !== undefined && f.description !== null && typeof f.description !== 'string') {
      throw new ToolsError(`${p}.function.description`, `'${p}.function.description' must be a string.`);
    }
    if (f.parameters !== undefined && f.parameters !== null) {
      if (!isObject(f.parameters)) throw new ToolsError(`${p}.function.parameters`, `'${p}.function.parameters' must be a JSON schema object.`);
      try {
        schemaToGBNF(f.parameters);
      } catch (e) {
        throw new ToolsError(`${p}.function.parameters`, `'${p}.function.parameters': ${(e as Error).message}`);
      }
    }
    const fn: Tool['function'] = { name: f.name };
    if (typeof f.description === 'string') fn.description = f.description;
    if (isObject(f.parameters)) fn.parameters = f.parameters;
    if (typeof f.strict === 'boolean') fn.strict = f.strict;
    return { type: 'function', function: fn };
  });
}

/** Checks `tool_choice` against the tools; undefined → 'auto' with tools, 'none' without (OpenAI's defaults). */
export function checkToolChoice(choice: unknown, tools: readonly Tool[] | undefined): ToolChoice {
  if (choice === undefined || choice === null) return tools?.length ? 'auto' : 'none';
  if (choice === 'auto' || choice === 'none' || choice === 'required') {
    if (choice === 'required' && !tools?.length) throw new ToolsError('tool_choice', `'tool_choice' is "required" but no 'tools' are given.`);
    return choice;
  }
  if (isObject(choice) && choice.type === 'function' && isObject(choice.function) && typeof choice.function.name === 'string') {
    const name = choice.function.name;
    if (!tools?.some((t) => t.function.name === name)) {
      throw new ToolsError('tool_choice', `'tool_choice' names the function ${JSON.stringify(name)}, which is not in 'tools'.`);
    }
    return { type: 'function', function: { name } };
  }
  throw new ToolsError('tool_choice', `'tool_choice' must be "auto", "none", "required" or {"type":"function","function":{"name":…}}.`);
}

/**
 * GBNF for tool_choice required / named: exactly one call in the family's syntax whose arguments
 * follow the tool's parameters schema; null for auto / none. When the generation prompt opened a
 * thinking block, the grammar lets the thinking run to its `</think>` first.
 */
export function toolGrammar(format: ToolFormat, tools: readonly Tool[], choice: ToolChoice, startsInReasoning = false): string | null {
  if (choice === 'auto' || choice === 'none') return null;
  const chosen = choice === 'required' ? tools : tools.filter((t) => t.function.name === choice.function.name);
  const gbnf = format.grammar(chosen);
  if (!startsInReasoning) return gbnf;
  // thinking: any text without '<' except where it does not start "</think>", then the close tag
  return gbnf.replace(/^root ::= /m, 'root ::= think-text "</think>" [ \\n]{0,4} ')
    + 'think-text ::= ( [^<] | "<" [^/] | "</" [^t] )*\n';
}
