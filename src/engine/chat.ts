// Turns a conversation into prompt ids for a loaded model: its own chat template, a named
// fallback, or plain continuation when the model has none (base models such as stories260K).
import { EngineError } from '../shared/errors.ts';
import { detectTemplate, NAMED_TEMPLATES, renderChat, type ChatMessage, type TemplateChoice } from './chat-template.ts';
import type { LoadedModel } from './load.ts';

export interface ChatPrompt {
  promptIds: number[];
  /** end-of-turn text of a named template, in case the vocab lacks the matching token */
  stop: string[];
}

/** The model's own template, a fallback picked from its architecture and vocab, or null. */
export function chooseTemplate(m: LoadedModel): TemplateChoice | null {
  const t = m.tokenizer;
  return detectTemplate(m.chatTemplate, m.arch.name, { has: (s) => t.tokenId(s) !== undefined });
}

export function buildChatPrompt(m: LoadedModel, messages: readonly ChatMessage[],
  choice: TemplateChoice | null = chooseTemplate(m)): ChatPrompt {
  const t = m.tokenizer;
  const bos = t.addBos && t.bosId !== null ? [t.bosId] : [];
  let promptIds: number[];
  if (!choice) {
    // no template: the conversation is continued as plain text; user text is never parsed as control tokens
    promptIds = [...bos, ...t.encode(messages.map((x) => x.content).join(''))];
  } else {
    const text = renderChat({
      template: choice.template, messages, addGenerationPrompt: true,
      bosToken: t.bosId !== null ? t.tokenText(t.bosId) : '', eosToken: t.eosId !== null ? t.tokenText(t.eosId) : '',
    });
    const ids = t.encode(text, { parseSpecial: true });
    // templates that write the BOS text themselves must not get a second BOS (llama.cpp warns about this)
    promptIds = bos.length && ids[0] === bos[0] ? ids : [...bos, ...ids];
  }
  if (promptIds.length <= bos.length) throw new EngineError('BAD_ARGUMENT', 'The prompt is empty: type something first.');
  const nCtx = m.decoder?.opts.nCtx;
  if (nCtx !== undefined && promptIds.length >= nCtx) {
    throw new EngineError('CONTEXT_FULL',
      `The conversation is ${promptIds.length} tokens long but the model's context holds ${nCtx}; start a new chat or shorten it.`);
  }
  return { promptIds, stop: choice?.kind === 'named' ? [...NAMED_TEMPLATES[choice.name].stop] : [] };
}
