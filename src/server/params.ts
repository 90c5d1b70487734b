// Request bodies → engine parameters, checked field by field: a wrong type or range is a 400 that
// names the field (OpenAI's `param`), never an exception deeper down. Unknown fields are ignored,
// as OpenAI clients send more than a local model can use (model, user, logit_bias …).
import { constraintGrammar, compileGrammar, type ResponseFormat } from '../engine/grammar/compile.ts';
import { resolveSamplingParams } from '../engine/sampling.ts';
import { checkToolChoice, checkTools, ToolsError, type ToolCall } from '../engine/tools/index.ts';
import { isEngineError } from '../shared/errors.ts';
import type { ChatCompletionParams, ChatMessage } from '../worker/api.ts';
import { badRequest } from './api-error.ts';

export type SamplingRequest = Omit<ChatCompletionParams, 'stream' | 'messages'>;

interface Common {
  params: SamplingRequest;
  stream: boolean;
  /** stream_options.include_usage: a last chunk with usage and no choices */
  includeUsage: boolean;
}
export interface ChatRequest extends Common { messages: ChatMessage[] }
export interface TextRequest extends Common { prompt: string | number[] }

type Body = Record<string, unknown>;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function asObject(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`The request body must be a JSON object (got ${typeName(v)}).`);
  return v as Body;
}

/** null counts as absent, as in OpenAI's API */
function num(b: Body, name: string, o: { min?: number; max?: number; int?: boolean } = {}): number | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`'${name}' must be a number (got ${typeName(v)}).`, name);
  if (o.int && !Number.isInteger(v)) throw badRequest(`'${name}' must be a whole number (got ${v}).`, name);
  if (o.min !== undefined && v < o.min) throw badRequest(`'${name}' must be at least ${o.min} (got ${v}).`, name);
  if (o.max !== undefined && v > o.max) throw badRequest(`'${name}' must be at most ${o.max} (got ${v}).`, name);
  return v;
}

function bool(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`'${name}' must be true or false (got ${typeName(v)}).`, name);
  return v;
}

function object(b: Body, name: string): Body | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`'${name}' must be an object (got ${typeName(v)}).`, name);
  return v as Body;
}

function stop(b: Body): string[] | undefined {
  const v = b.stop;
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw badRequest(`'stop' must be a string or an array of strings.`, 'stop');
  return list as string[];
}

function common(b: Body): Common {
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw badRequest(`Only one choice per request is supported ('n' must be 1).`, 'n');
  // max_completion_tokens is OpenAI's newer name; -1 means "until the end", as llama.cpp's n_predict
  const maxName = b.max_completion_tokens !== undefined && b.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const max = num(b, maxName, { int: true, min: -1 });
  const seed = num(b, 'seed', { int: true, max: 2 ** 32 - 1 });
  const kwargs = object(b, 'chat_template_kwargs');
  const enableThinking = kwargs ? bool(kwargs, 'enable_thinking') : undefined;
  const topK = num(b, 'top_k', { int: true });
  const params: SamplingRequest = {
    temperature: num(b, 'temperature'),
    top_p: num(b, 'top_p', { min: 0, max: 1 }),
    // llama.cpp: top_k ≤ 0 turns it off
    top_k: topK === undefined ? undefined : Math.max(0, topK),
    min_p: num(b, 'min_p', { min: 0, max: 1 }),
    max_tokens: max === undefined || max < 0 ? undefined : max,
    stop: stop(b),
    // a negative seed asks for a random one, as llama.cpp's -1
    seed: seed === undefined || seed < 0 ? undefined : seed,
    repeat_penalty: num(b, 'repeat_penalty'),
    frequency_penalty: num(b, 'frequency_penalty', { min: -2, max: 2 }),
    presence_penalty: num(b, 'presence_penalty', { min: -2, max: 2 }),
    ...(enableThinking !== undefined ? { chat_template_kwargs: { enable_thinking: enableThinking } } : {}),
  };
  Object.assign(params, constraint(b));
  const p = params;
  // the engine's own checks, so nothing it would refuse gets past here
  resolveSamplingParams({
    temperature: p.temperature, topP: p.top_p, topK: p.top_k, minP: p.min_p, seed: p.seed,
    repeatPenalty: p.repeat_penalty, frequencyPenalty: p.frequency_penalty, presencePenalty: p.presence_penalty,
  });
  const streamOptions = object(b, 'stream_options');
  return { params, stream: bool(b, 'stream') ?? false, includeUsage: (streamOptions && bool(streamOptions, 'include_usage')) ?? false };
}

/**
 * response_format (OpenAI), grammar and json_schema (llama-server): compiled here once, so a bad
 * schema or grammar is a 400 naming the field before anything streams (the compiled grammar is cached).
 */
function constraint(b: Body): Pick<SamplingRequest, 'response_format' | 'grammar' | 'json_schema'> {
  const out: Pick<SamplingRequest, 'response_format' | 'grammar' | 'json_schema'> = {};
  const rf = object(b, 'response_format');
  if (rf) {
    if (rf.type !== 'text' && rf.type !== 'json_object' && rf.type !== 'json_schema') {
      throw badRequest(`'response_format.type' must be text, json_object or json_schema (got ${JSON.stringify(rf.type)}).`, 'response_format');
    }
    if (rf.type === 'json_schema' && (typeof rf.json_schema !== 'object' || rf.json_schema === null)) {
      throw badRequest(`'response_format.json_schema' must be an object with the schema in 'schema'.`, 'response_format');
    }
    out.response_format = rf as unknown as ResponseFormat;
  }
  if (b.grammar !== undefined && b.grammar !== null && b.grammar !== '') {
    if (typeof b.grammar !== 'string') throw badRequest(`'grammar' must be GBNF text (got ${typeName(b.grammar)}).`, 'grammar');
    out.grammar = b.grammar;
  }
  if (b.json_schema !== undefined && b.json_schema !== null) out.json_schema = b.json_schema;
  try {
    const gbnf = constraintGrammar({ grammar: out.grammar, responseFormat: out.response_format, jsonSchema: out.json_schema });
    if (gbnf !== null) compileGrammar(gbnf);
  } catch (e) {
    if (!isEngineError(e)) throw e;
    const param = out.grammar !== undefined ? 'grammar' : out.json_schema !== undefined ? 'json_schema' : 'response_format';
    throw badRequest(e.message, param);
  }
  return out;
}

const ROLES: Record<string, ChatMessage['role']> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant', tool: 'tool' };

/** tools and tool_choice (OpenAI function calling), checked as the engine checks them: a 400 naming the field. */
function toolParams(b: Body): Pick<ChatRequest['params'], 'tools' | 'tool_choice'> {
  try {
    const tools = b.tools === undefined || b.tools === null ? undefined : checkTools(b.tools);
    const choice = checkToolChoice(b.tool_choice, tools);
    if (choice !== 'none' && choice !== 'auto' && (b.grammar || b.json_schema || (b.response_format as Body | undefined)?.type === 'json_schema'
      || (b.response_format as Body | undefined)?.type === 'json_object')) {
      throw new ToolsError('tool_choice', `'tool_choice' ${JSON.stringify(choice)} forces a call, which cannot be combined with grammar, json_schema or response_format.`);
    }
    return { ...(tools ? { tools } : {}), ...(b.tool_choice !== undefined && b.tool_choice !== null ? { tool_choice: choice } : {}) };
  } catch (e) {
    if (e instanceof ToolsError) throw badRequest(e.message, e.param);
    throw e;
  }
}

/** An assistant message's tool_calls: [{id, type: 'function', function: {name, arguments: JSON text}}]. */
function toolCalls(v: unknown, i: number): ToolCall[] | undefined {
  const param = `messages[${i}].tool_calls`;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw badRequest(`'${param}' must be an array (got ${typeName(v)}).`, param);
  return v.map((c, j) => {
    const p = `${param}[${j}]`;
    const call = c as Body | null;
    const f = call?.function as Body | undefined;
    if (typeof call !== 'object' || call === null || typeof f !== 'object' || f === null || typeof f.name !== 'string') {
      throw badRequest(`'${p}' must be {"id":…,"type":"function","function":{"name":…,"arguments":"{…}"}}.`, p);
    }
    // OpenAI sends the arguments as JSON text; an object (some clients) is taken as well
    let args = typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments ?? {});
    try {
      const parsed: unknown = JSON.parse(args || '{}');
      args = JSON.stringify(parsed);
    } catch {
      throw badRequest(`'${p}.function.arguments' must be JSON text.`, `${p}.function.arguments`);
    }
    return { id: typeof call.id === 'string' ? call.id : `call_${i}_${j}`, type: 'function', function: { name: f.name, arguments: args } };
  });
}

/** A message's content: a string, or OpenAI's array of parts (text parts only; null for an assistant turn). */
function content(v: unknown, i: number): string {
  const param = `messages[${i}].content`;
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (!Array.isArray(v)) throw badRequest(`'${param}' must be a string or an array of text parts (got ${typeName(v)}).`, param);
  return v.map((part, j) => {
    const p = part as Body | null;
    if (typeof p !== 'object' || p === null || p.type !== 'text' || typeof p.text !== 'string') {
      throw badRequest(`'${param}[${j}]' must be {"type":"text","text":"…"}: this server takes text only.`, param);
    }
    return p.text;
  }).join('');
}

export function parseChatRequest(body: unknown): ChatRequest {
  const b = asObject(body);
  const m = b.messages;
  if (m === undefined || m === null) throw badRequest(`'messages' is required.`, 'messages');
  if (!Array.isArray(m)) throw badRequest(`'messages' must be an array (got ${typeName(m)}).`, 'messages');
  if (m.length === 0) throw badRequest(`'messages' must hold at least one message.`, 'messages');
  const messages = m.map((x, i): ChatMessage => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw badRequest(`'messages[${i}]' must be an object.`, `messages[${i}]`);
    const msg = x as Body;
    const role = typeof msg.role === 'string' ? ROLES[msg.role] : undefined;
    if (!role) throw badRequest(`'messages[${i}].role' must be system, developer, user, assistant or tool (got ${JSON.stringify(msg.role)}).`, `messages[${i}].role`);
    const out: ChatMessage = { role, content: content(msg.content, i) };
    if (typeof msg.reasoning_content === 'string') out.reasoning_content = msg.reasoning_content;
    if (role === 'assistant') {
      const calls = toolCalls(msg.tool_calls, i);
      if (calls?.length) out.tool_calls = calls;
    }
    if (role === 'tool') {
      if (typeof msg.tool_call_id === 'string') out.tool_call_id = msg.tool_call_id;
      if (typeof msg.name === 'string') out.name = msg.name;
    }
    return out;
  });
  const req = { ...common(b), messages };
  Object.assign(req.params, toolParams(b));
  return req;
}

export function parseTextRequest(body: unknown): TextRequest {
  const b = asObject(body);
  let p = b.prompt;
  if (p === undefined || p === null) throw badRequest(`'prompt' is required.`, 'prompt');
  // one prompt per request: a one-element array of strings is that prompt
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') p = p[0];
  const tokens = Array.isArray(p) && p.length > 0 && p.every((t) => Number.isInteger(t) && (t as number) >= 0);
  if (typeof p !== 'string' && !tokens) throw badRequest(`'prompt' must be a string or an array of token ids.`, 'prompt');
  return { ...common(b), prompt: p as string | number[] };
}
