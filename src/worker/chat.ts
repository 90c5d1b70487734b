// Turns OpenAI-style chat parameters into prompt ids and generation options for a Session.
// Models without any chat template (story models such as stories260K) get plain continuation.
import { detectTemplate, renderChat, type TemplateChoice } from '../engine/chat-template.ts';
import type { LoadedModel } from '../engine/load.ts';
import type { GenerateOptions, Session } from '../engine/session.ts';
import { EngineError } from '../shared/errors.ts';
import type { ChatCompletionParams, LoadedModelInfo } from './api.ts';

export function chooseTemplate(model: LoadedModel): TemplateChoice | null {
  const tok = model.tokenizer;
  return detectTemplate(model.chatTemplate, model.h.arch, { has: (s) => tok.tokenId(s) !== undefined });
}

export function templateLabel(choice: TemplateChoice | null): LoadedModelInfo['template'] {
  if (!choice) return 'none';
  return choice.kind === 'model' ? 'model' : `named:${choice.name}`;
}

/** Prompt ids for the conversation, ending where the assistant's answer starts. */
export function chatPromptIds(session: Session, choice: TemplateChoice | null, params: ChatCompletionParams): number[] {
  const model = session.model;
  const tok = model.tokenizer;
  const tokenText = (id: number | null): string => (id === null ? '' : tok.tokenText(id));
  const bos = tokenText(tok.bosId);
  let text = renderChat({
    template: choice?.template ?? null,
    messages: params.messages,
    addGenerationPrompt: true,
    bosToken: bos,
    eosToken: tokenText(tok.eosId),
  });
  // Templates print BOS themselves; promptIds adds it too when the model wants one.
  if (choice && tok.addBos && bos && text.startsWith(bos)) text = text.slice(bos.length);
  // Template text holds control tokens; plain user text must never be parsed as one.
  const ids = session.promptIds(text, choice !== null);
  const nCtx = model.decoder.opts.nCtx;
  if (ids.length >= nCtx) {
    throw new EngineError('CONTEXT_FULL',
      `The conversation is ${ids.length} tokens long but the model's context holds ${nCtx}; start a new chat or shorten it.`);
  }
  if (ids.length === 0) throw new EngineError('BAD_ARGUMENT', 'The prompt is empty: type something first.');
  return ids;
}

export function generateOptions(p: ChatCompletionParams, signal: AbortSignal): GenerateOptions {
  const stop = p.stop === undefined ? [] : Array.isArray(p.stop) ? p.stop : [p.stop];
  return {
    signal,
    maxTokens: p.max_tokens ?? 256,
    stop: stop.filter((s) => s.length > 0),
    sampling: {
      temperature: p.temperature,
      topP: p.top_p,
      topK: p.top_k,
      minP: p.min_p,
      seed: p.seed,
      repeatPenalty: p.repeat_penalty,
      frequencyPenalty: p.frequency_penalty,
      presencePenalty: p.presence_penalty,
    },
  };
}
