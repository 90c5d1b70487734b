// Chat prompt rendering with the model's own Jinja template (GGUF `tokenizer.chat_template`), an MLC
// folder's conv_template, a named built-in fallback, or none at all (plain continuation: the
// messages' text concatenated).
// Like llama.cpp and minja, templates that ignore or reject the system role get the system text
// merged into the first user message instead of losing it. Tools (OpenAI's `tools`) are the
// template's `tools` variable; templates without a place for them get them described in the system
// prompt, llama.cpp's fallback (src/engine/tools/render.ts).

import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { EngineError } from '../shared/errors.ts';
import { isNamedTemplate, NAMED_TEMPLATES, type NamedTemplate } from './chat-templates/index.ts';
import { renderConvTemplate, type ConvTemplate } from './conv-template.ts';
import { detectToolFormat } from './tools/index.ts';
import { probeToolCaps, toolTemplateInput, type ToolCaps } from './tools/render.ts';
import type { Tool, ToolCall } from './tools/types.ts';

export { NAMED_TEMPLATES, isNamedTemplate, type NamedTemplate } from './chat-templates/index.ts';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** an assistant turn's thinking, kept apart from its answer; the template decides whether past turns show it */
  reasoning_content?: string;
  /** an assistant turn's function calls */
  tool_calls?: readonly ToolCall[];
  /** a tool turn: the call it answers */
  tool_call_id?: string;
  /** a tool turn: the function's name */
  name?: string;
}

/** Extra template variables, as llama.cpp's chat_template_kwargs (e.g. enable_thinking, date_string). */
export type TemplateKwargs = Record<string, string | number | boolean | null>;

export interface RenderChatOptions {
  /** Jinja source, or an MLC conv_template; null → `fallback`, or plain continuation when there is no fallback either. */
  template: string | ConvTemplate | null;
  messages: readonly ChatMessage[];
  /** Append the opening of an assistant turn so the model answers. */
  addGenerationPrompt: boolean;
  bosToken: string;
  eosToken: string;
  fallback?: NamedTemplate;
  /** Clock for templates that print today's date via strftime_now (Llama 3.1+); local time, as llama.cpp. */
  now?: () => Date;
  /** Variables for the template; the conversation, tokens and add_generation_prompt always win. */
  kwargs?: TemplateKwargs;
  /** functions the model may call (OpenAI's `tools`), given to the template as `tools` (or written in where it has no place for them) */
  tools?: readonly Tool[];
}

const NO_TOOL_CAPS: ToolCaps = { tools: false, toolCalls: false, objectArguments: false, toolResponses: false };

export function renderChat(opts: RenderChatOptions): string {
  if (opts.template !== null && typeof opts.template === 'object') {
    // a conv_template knows no tools: everything tool-related is written in (as for Jinja templates without them)
    const plain = opts.tools?.length || opts.messages.some((m) => m.role === 'tool' || m.tool_calls?.length)
      ? toolTemplateInput(opts.messages, opts.tools, NO_TOOL_CAPS, detectToolFormat(null), '').messages as unknown as ChatMessage[]
      : opts.messages;
    return renderConvTemplate(opts.template, plain, opts.addGenerationPrompt);
  }
  const source = opts.template ?? (opts.fallback ? NAMED_TEMPLATES[opts.fallback].template : null);
  if (source === null) return opts.messages.map((m) => m.content).join('');
  const compiled = compile(source);
  compiled.systemRole ??= probeSystemRole(compiled.template);
  const toolTurns = opts.messages.some((m) => m.role === 'tool' || m.tool_calls?.length);
  let vars: { messages: Record<string, unknown>[]; tools?: Tool[] };
  if (opts.tools?.length || toolTurns) {
    compiled.toolCaps ??= probeToolCaps((v) => tryRender(compiled.template, v));
    const input = toolTemplateInput(opts.messages, opts.tools, compiled.toolCaps, detectToolFormat(source), source);
    vars = { ...input, messages: compiled.systemRole ? input.messages : mergeSystemIntoUser(input.messages as unknown as ChatMessage[]) as unknown as Record<string, unknown>[] };
  } else {
    vars = { messages: (compiled.systemRole ? opts.messages : mergeSystemIntoUser(opts.messages)).map(templateMessage) };
  }
  return render(compiled.template, {
    ...opts.kwargs,
    ...vars,
    add_generation_prompt: opts.addGenerationPrompt,
    bos_token: opts.bosToken,
    eos_token: opts.eosToken,
  }, opts.now ?? (() => new Date()));
}

/** No reasoning_content key at all when there is none: templates test `is defined`. */
function templateMessage(m: ChatMessage): Record<string, string> {
  const out: Record<string, string> = { role: m.role, content: m.content };
  if (m.role === 'assistant' && m.reasoning_content !== undefined) out.reasoning_content = m.reasoning_content;
  return out;
}

/**
 * What add_generation_prompt appends for this conversation (llama.cpp's way: the rendering with it,
 * past the common prefix with the rendering without it), e.g. `<|im_start|>assistant\n<think>\n`.
 */
export function generationPrompt(opts: Omit<RenderChatOptions, 'addGenerationPrompt'>): string {
  const without = renderChat({ ...opts, addGenerationPrompt: false });
  const withIt = renderChat({ ...opts, addGenerationPrompt: true });
  let i = 0;
  while (i < without.length && i < withIt.length && without[i] === withIt[i]) i++;
  return withIt.slice(i);
}

/** A Jinja template: the model's own, or a built-in one by name. */
export type JinjaChoice =
  | { kind: 'model'; template: string }
  | { kind: 'named'; name: NamedTemplate; template: string };

export type TemplateChoice =
  | JinjaChoice
  /** an MLC folder's conv_template object: its prefix ids replace the tokenizer's BOS, its stops apply */
  | { kind: 'mlc'; name: string; template: ConvTemplate };

/** Vocabulary probe: a Set of token strings, or anything with `has`. */
export interface TokenSet {
  has(token: string): boolean;
}

/**
 * Decides how to build prompts for a model: its own template as is; else a named fallback picked
 * from the architecture (general.architecture) or from special tokens in the vocab; else null,
 * meaning plain continuation (base models such as stories260K).
 */
export function detectTemplate(template: string | null | undefined, archHint?: string, vocab?: TokenSet): JinjaChoice | null {
  const t = template?.trim();
  if (t) {
    // llama.cpp also accepts a bare template name in place of Jinja source.
    if (isNamedTemplate(t)) return named(t);
    return { kind: 'model', template: template! };
  }
  if (vocab) {
    if (vocab.has('<|start_header_id|>') && vocab.has('<|eot_id|>')) return named('llama3');
    if (vocab.has('<|im_start|>') && vocab.has('<|im_end|>')) return named('chatml');
    if (vocab.has('<start_of_turn>') && vocab.has('<end_of_turn>')) return named('gemma');
    if (vocab.has('<|user|>') && vocab.has('<|end|>')) return named('phi3');
  }
  const arch = archHint?.toLowerCase() ?? '';
  if (arch.startsWith('qwen')) return named('chatml');
  if (arch === 'phi3') return named('phi3');
  if (arch.startsWith('gemma')) return named('gemma');
  return null;
}

export function named(name: NamedTemplate): JinjaChoice {
  return { kind: 'named', name, template: NAMED_TEMPLATES[name].template };
}

interface Compiled {
  template: Template;
  /** Whether the template shows a system message; probed once per template. */
  systemRole?: boolean;
  /** what the template renders of tools and tool turns; probed once, when a request first has them */
  toolCaps?: ToolCaps;
}

const cache = new Map<string, Compiled>();
const CACHE_SIZE = 8;

function compile(source: string): Compiled {
  const hit = cache.get(source);
  if (hit) {
    cache.delete(source); // re-insert as most recent
    cache.set(source, hit);
    return hit;
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new EngineError('TEMPLATE', `The chat template could not be parsed: ${errorText(e)}`, { cause: e });
  }
  const entry: Compiled = { template };
  cache.set(source, entry);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return entry;
}

/**
 * What one rendering may cost. A chat template comes with the model file, so it is untrusted: a
 * `range(10**9)`, nested loops, a recursive macro or a string doubled in a loop would otherwise hang
 * or exhaust the worker. Real templates use a few thousand steps for a long conversation.
 */
export const TEMPLATE_LIMITS = { steps: 2_000_000, ms: 1000, rangeLength: 100_000, stringLength: 16 * 1024 * 1024, depth: 200 };

/** A template that went past TEMPLATE_LIMITS. */
class TemplateLimit extends Error {}

/**
 * The interpreter with a step budget, a time budget (its loops do work per iteration that no step
 * counts), a nesting limit and a cap on every string it produces.
 */
class BoundedInterpreter extends Interpreter {
  private steps = 0;
  private depth = 0;
  private readonly deadline = performance.now() + TEMPLATE_LIMITS.ms;
  override evaluate(...args: Parameters<Interpreter['evaluate']>): ReturnType<Interpreter['evaluate']> {
    if (++this.steps > TEMPLATE_LIMITS.steps) throw new TemplateLimit(`it took more than ${TEMPLATE_LIMITS.steps} steps`);
    if ((this.steps & 63) === 0 && performance.now() > this.deadline) throw new TemplateLimit(`it ran for more than ${TEMPLATE_LIMITS.ms} ms`);
    if (++this.depth > TEMPLATE_LIMITS.depth) throw new TemplateLimit(`it nests deeper than ${TEMPLATE_LIMITS.depth} levels`);
    try {
      const out = super.evaluate(...args);
      const v = (out as { value?: unknown }).value;
      if (typeof v === 'string' && v.length > TEMPLATE_LIMITS.stringLength) {
        throw new TemplateLimit(`it made a string of more than ${TEMPLATE_LIMITS.stringLength} characters`);
      }
      return out;
    } finally {
      this.depth--;
    }
  }
}

function render(template: Template, vars: Record<string, unknown>, now: () => Date): string {
  // Template.render would install a locale-dependent strftime_now that cannot be overridden,
  // so the globals are set up here.
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false, true: true, none: null, False: false, True: true, None: null,
    raise_exception: (message: unknown) => {
      throw new TemplateRaise(String(message));
    },
    range: pyRange,
    strftime_now: (format: string) => strftime(now(), format),
    ...vars,
  };
  for (const [k, v] of Object.entries(globals)) env.set(k, v);
  try {
    const out = new BoundedInterpreter(env).run(template.parsed);
    return String(out.value);
  } catch (e) {
    const what = e instanceof TemplateRaise ? 'The chat template rejected the conversation'
      : e instanceof TemplateLimit ? 'The chat template was stopped because' : 'The chat template failed';
    throw new EngineError('TEMPLATE', `${what}: ${errorText(e)}`, { cause: e });
  }
}

/** An error raised by the template itself via raise_exception(). */
class TemplateRaise extends Error {}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const PROBE = '\u0001system-probe\u0001';

/** A rendering for a capability probe: null when the template fails on it. */
function tryRender(template: Template, vars: Record<string, unknown>): string | null {
  try {
    return render(template, { add_generation_prompt: false, bos_token: '', eos_token: '', ...vars }, () => new Date(0));
  } catch {
    return null;
  }
}

function probeSystemRole(template: Template): boolean {
  try {
    const out = render(template, {
      messages: [{ role: 'system', content: PROBE }, { role: 'user', content: 'hi' }],
      add_generation_prompt: true, bos_token: '', eos_token: '',
    }, () => new Date(0));
    return out.includes(PROBE);
  } catch {
    return false;
  }
}

/** System text goes in front of the next user message, separated by a newline (as llama.cpp does). */
export function mergeSystemIntoUser(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let pending: string[] = [];
  for (const m of messages) {
    if (m.role === 'system') {
      pending.push(m.content);
    } else if (m.role === 'user' && pending.length > 0) {
      out.push({ role: 'user', content: [...pending, m.content].join('\n') });
      pending = [];
    } else {
      out.push(m);
    }
  }
  if (pending.length > 0) out.push({ role: 'user', content: pending.join('\n') });
  return out;
}

function pyRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  for (const v of [start, stop, step]) if (!Number.isFinite(v)) throw new Error('range() takes finite numbers');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (n > TEMPLATE_LIMITS.rangeLength) throw new TemplateLimit(`range() of ${n} numbers is more than ${TEMPLATE_LIMITS.rangeLength}`);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's strftime in the C locale, for the directives chat templates use. */
export function strftime(d: Date, format: string): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return format.replace(/%[YymdbBaAHMS%]/g, (tok) => {
    switch (tok) {
      case '%Y': return String(d.getFullYear());
      case '%y': return pad(d.getFullYear() % 100);
      case '%m': return pad(d.getMonth() + 1);
      case '%d': return pad(d.getDate());
      case '%b': return MONTHS[d.getMonth()].slice(0, 3);
      case '%B': return MONTHS[d.getMonth()];
      case '%a': return DAYS[d.getDay()].slice(0, 3);
      case '%A': return DAYS[d.getDay()];
      case '%H': return pad(d.getHours());
      case '%M': return pad(d.getMinutes());
      case '%S': return pad(d.getSeconds());
      default: return '%';
    }
  });
}
