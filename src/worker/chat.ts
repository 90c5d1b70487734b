// Maps the worker API's OpenAI-style parameters onto the engine (prompt building is engine/chat.ts).
import type { TemplateChoice } from '../engine/chat-template.ts';
import type { GenerateOptions } from '../engine/session.ts';
import type { ChatCompletionParams, LoadedModelInfo } from './api.ts';

export function templateLabel(choice: TemplateChoice | null): LoadedModelInfo['template'] {
  if (!choice) return 'none';
  return choice.kind === 'model' ? 'model' : `named:${choice.name}`;
}

/** OpenAI-style parameters → Session options; `templateStop` is the chat template's end-of-turn text. */
export function generateOptions(p: ChatCompletionParams, signal: AbortSignal, templateStop: readonly string[] = []): GenerateOptions {
  const stop = p.stop === undefined ? [] : Array.isArray(p.stop) ? p.stop : [p.stop];
  return {
    signal,
    maxTokens: p.max_tokens ?? 256,
    stop: [...new Set([...stop, ...templateStop])].filter((s) => s.length > 0),
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
