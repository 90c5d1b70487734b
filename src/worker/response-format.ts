// The app checks a response_format as the user types it, with the engine's own compiler (schema →
// GBNF → parsed rules), so an unsupported schema feature shows beside the box, worded as the worker
// would word it, before anything is sent. Pure and cheap: no tokenizer, no model.
import { constraintGrammar } from '../engine/grammar/compile.ts';
import { parseGBNF } from '../engine/grammar/gbnf-parse.ts';
import { isEngineError, type EngineError } from '../shared/errors.ts';
import type { ChatCompletionParams } from './api.ts';

export type ResponseFormat = NonNullable<ChatCompletionParams['response_format']>;

/** null when this engine compiles it; else the GRAMMAR error the worker would answer with. */
export function checkResponseFormat(rf: ResponseFormat): EngineError | null {
  try {
    const gbnf = constraintGrammar({ responseFormat: rf });
    if (gbnf !== null) parseGBNF(gbnf);
    return null;
  } catch (e) {
    if (isEngineError(e)) return e;
    throw e;
  }
}
