// Maps the worker API's OpenAI-style parameters onto the engine (prompt building is engine/chat.ts).
import type { TemplateChoice } from '../engine/chat-template.ts';
import { ReasoningSplitter, type SplitDelta } from '../engine/reasoning.ts';
import type { GenerateOptions } from '../engine/session.ts';
import type { ChatCompletionDelta, ChatCompletionParams, LoadedModelInfo } from './api.ts';

export function templateLabel(choice: TemplateChoice | null): LoadedModelInfo['template'] {
  if (!choice) return 'none';
  return choice.kind === 'model' ? 'model' : `named:${choice.name}`;
}

/** OpenAI-style parameters → Session options; `templateStop` is the chat template's end-of-turn text. */
export function generateOptions(p: ChatCompletionParams, signal: AbortSignal, templateStop: readonly string[] = [],
  nKeep?: number): GenerateOptions {
  const stop = p.stop === undefined ? [] : Array.isArray(p.stop) ? p.stop : [p.stop];
  return {
    signal,
    contextShift: p.context_shift ?? true,
    ...(nKeep !== undefined ? { nKeep } : {}),
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

/**
 * Generated text → OpenAI-style deltas: thinking as reasoning_content, the answer as content, the
 * role on the first one; null when a piece is held back (a tag may be starting).
 * `split` is off for plain continuation (story text has no thinking in it).
 */
export function deltaStream(opts: { split: boolean; startsInReasoning: boolean }) {
  const splitter = opts.split ? new ReasoningSplitter({ startInReasoning: opts.startsInReasoning }) : null;
  let first = true;
  const delta = (d: SplitDelta): ChatCompletionDelta | null => {
    if (!d.reasoning && !d.content) return null;
    const out: ChatCompletionDelta = first ? { role: 'assistant' } : {};
    if (d.reasoning) out.reasoning_content = d.reasoning;
    if (d.content) out.content = d.content;
    first = false;
    return out;
  };
  return {
    push: (text: string): ChatCompletionDelta | null => delta(splitter ? splitter.push(text) : { reasoning: '', content: text }),
    flush: (): ChatCompletionDelta | null => (splitter ? delta(splitter.flush()) : null),
  };
}
