// Turns a conversation into prompt ids for a loaded model: its own chat template, a named
// fallback, or plain continuation when the model has none (base models such as stories260K).
import { detectTemplate, NAMED_TEMPLATES, renderChat, type ChatMessage } from './chat-template.ts';
import type { LoadedModel } from './load.ts';

export interface ChatPrompt {
  promptIds: number[];
  /** end-of-turn text of the template, in case the vocab lacks the matching token */
  stop: string[];
  /** which template was used: the model's own, a named fallback, or none (plain continuation) */
  template: 'model' | 'none' | string;
}

export function buildChatPrompt(m: LoadedModel, messages: readonly ChatMessage[]): ChatPrompt {
  const t = m.tokenizer;
  const vocab = { has: (s: string) => t.tokenId(s) !== undefined };
  const choice = detectTemplate(m.chatTemplate, m.arch.name, vocab);
  const bos = t.addBos && t.bosId !== null ? [t.bosId] : [];
  if (!choice) {
    // no template: the conversation is continued as plain text
    return { promptIds: [...bos, ...t.encode(messages.map((x) => x.content).join(''))], stop: [], template: 'none' };
  }
  const text = renderChat({
    template: choice.template, messages, addGenerationPrompt: true,
    bosToken: t.bosId !== null ? t.tokenText(t.bosId) : '', eosToken: t.eosId !== null ? t.tokenText(t.eosId) : '',
  });
  const ids = t.encode(text, { parseSpecial: true });
  // templates that write the BOS text themselves must not get a second BOS (llama.cpp warns about this)
  const promptIds = bos.length && ids[0] === bos[0] ? ids : [...bos, ...ids];
  const stop = choice.kind === 'named' ? [...NAMED_TEMPLATES[choice.name].stop] : [];
  return { promptIds, stop, template: choice.kind === 'named' ? choice.name : 'model' };
}
