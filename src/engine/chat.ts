// Turns a conversation into prompt ids for a loaded model: its own chat template (an MLC folder's
// conv_template first), a named fallback, or plain continuation when the model has none (base
// models such as stories260K).
import type { MLCModelFile } from '../formats/mlc/folder.ts';
import { EngineError } from '../shared/errors.ts';
import {
  detectTemplate, generationPrompt, named, NAMED_TEMPLATES, renderChat, type ChatMessage, type RenderChatOptions, type TemplateChoice,
} from './chat-template.ts';
import { namedForMLC } from './conv-template.ts';
import type { LoadedModel } from './load.ts';
import { opensReasoning } from './reasoning.ts';

export interface ChatPrompt {
  promptIds: number[];
  /** end-of-turn text of a named template (in case the vocab lacks the matching token), or a conv_template's stop_str */
  stop: string[];
  /** token ids that end the answer besides the vocab's end-of-generation ones (a conv_template's stop_token_ids) */
  stopIds: number[];
  /** the generation prompt opened a thinking block, so the answer starts inside it */
  startsInReasoning: boolean;
  /** tokens a context shift keeps: the BOS and the system prompt (the leading system messages) */
  nKeep: number;
}

export interface ChatPromptOptions {
  /** llama.cpp's enable_thinking: true unless turned off, for templates that read it */
  enableThinking?: boolean;
  /** clock for strftime_now */
  now?: () => Date;
  /** the session shifts the context, so a conversation longer than it is not an error (it is cut) */
  contextShift?: boolean;
  /** functions offered to the model (rendered by the template, or described in the system prompt) */
  tools?: RenderChatOptions['tools'];
}

/**
 * The model's own template, a fallback picked from its architecture and vocab, or null.
 * An MLC folder's conv_template object is what mlc-llm itself renders, so it wins over the
 * tokenizer_config's Jinja. A bare registry name is only a pointer into mlc-llm's registry, which we
 * do not ship: the model's own Jinja template, when the folder has one, says more; without one the
 * name picks the built-in template of the same turn format, and an unknown name leaves it to detection.
 */
export function chooseTemplate(m: LoadedModel): TemplateChoice | null {
  const conv = (m.file as Partial<MLCModelFile> | undefined)?.mlc?.convTemplate;
  if (typeof conv === 'object') return { kind: 'mlc', name: conv.name, template: conv };
  const mapped = typeof conv === 'string' ? namedForMLC(conv) : undefined;
  if (mapped && !m.chatTemplate?.trim()) return named(mapped);
  const t = m.tokenizer;
  return detectTemplate(m.chatTemplate, m.arch.name, { has: (s) => t.tokenId(s) !== undefined });
}

function templateStops(choice: TemplateChoice | null): Pick<ChatPrompt, 'stop' | 'stopIds'> {
  if (choice?.kind === 'mlc') return { stop: [...choice.template.stopStr], stopIds: [...choice.template.stopTokenIds] };
  return { stop: choice?.kind === 'named' ? [...NAMED_TEMPLATES[choice.name].stop] : [], stopIds: [] };
}

function tokenTexts(m: LoadedModel): Pick<RenderChatOptions, 'bosToken' | 'eosToken'> {
  const t = m.tokenizer;
  return { bosToken: t.bosId !== null ? t.tokenText(t.bosId) : '', eosToken: t.eosId !== null ? t.tokenText(t.eosId) : '' };
}

export function buildChatPrompt(m: LoadedModel, messages: readonly ChatMessage[],
  choice: TemplateChoice | null = chooseTemplate(m), opts: ChatPromptOptions = {}): ChatPrompt {
  const t = m.tokenizer;
  // a conv_template says itself which ids open the prompt (mlc-llm adds no other special tokens)
  const bos = choice?.kind === 'mlc' ? choice.template.systemPrefixTokenIds : t.addBos && t.bosId !== null ? [t.bosId] : [];
  let promptIds: number[];
  let startsInReasoning = false;
  let nKeep = bos.length;
  if (!choice) {
    // no template: the conversation is continued as plain text; user text is never parsed as control tokens
    promptIds = [...bos, ...t.encode(messages.map((x) => x.content).join(''))];
  } else {
    // llama.cpp always passes enable_thinking (default true); templates such as DeepSeek-R1's test it plainly
    const render: Omit<RenderChatOptions, 'addGenerationPrompt'> = {
      template: choice.template, messages, ...tokenTexts(m), now: opts.now,
      kwargs: { enable_thinking: opts.enableThinking ?? true },
      ...(opts.tools?.length ? { tools: opts.tools } : {}),
    };
    const text = renderChat({ ...render, addGenerationPrompt: true });
    startsInReasoning = opensReasoning(generationPrompt(render));
    const ids = t.encode(text, { parseSpecial: true });
    // templates that write the BOS text themselves must not get a second BOS (llama.cpp warns about this)
    promptIds = bos.length && ids.length >= bos.length && bos.every((id, i) => ids[i] === id) ? ids : [...bos, ...ids];
    nKeep = systemPrefix(promptIds, render, t.encode.bind(t), bos);
  }
  if (promptIds.length <= bos.length) throw new EngineError('BAD_ARGUMENT', 'The prompt is empty: type something first.');
  const nCtx = m.decoder?.opts.nCtx;
  if (nCtx !== undefined && promptIds.length >= nCtx && !opts.contextShift) {
    throw new EngineError('CONTEXT_FULL',
      `The conversation is ${promptIds.length} tokens long but the model's context holds ${nCtx}; start a new chat or shorten it.`);
  }
  return { promptIds, ...templateStops(choice), startsInReasoning, nKeep };
}

/**
 * Tokens of the prompt that the leading system messages render to (rendered alone, they are a
 * prefix of the whole prompt in every template we know; the common prefix guards the others).
 */
function systemPrefix(promptIds: readonly number[], render: Omit<RenderChatOptions, 'addGenerationPrompt'>,
  encode: (s: string, o: { parseSpecial: boolean }) => number[], bos: readonly number[]): number {
  let n = 0;
  while (n < render.messages.length && render.messages[n].role === 'system') n++;
  if (n === 0 || n === render.messages.length) return bos.length;
  let ids: number[];
  try {
    ids = encode(renderChat({ ...render, messages: render.messages.slice(0, n), addGenerationPrompt: false }), { parseSpecial: true });
  } catch {
    return bos.length; // templates that insist on a user turn
  }
  if (bos.length && ids[0] !== bos[0]) ids = [...bos, ...ids];
  let k = 0;
  while (k < ids.length && k < promptIds.length && ids[k] === promptIds[k]) k++;
  return Math.max(k, bos.length);
}

/** Whether the template reads enable_thinking (its prompt changes with it), so a thinking toggle means something. */
export function hasThinkingToggle(m: LoadedModel, choice: TemplateChoice | null): boolean {
  if (!choice) return false;
  const probe = (enable_thinking: boolean): string | null => {
    try {
      return renderChat({
        template: choice.template, messages: [{ role: 'user', content: 'test' }], addGenerationPrompt: true,
        ...tokenTexts(m), now: () => new Date(0), kwargs: { enable_thinking },
      });
    } catch {
      return null;
    }
  };
  const on = probe(true);
  return on !== null && on !== probe(false);
}
