// OpenAI's logprobs and logit_bias between the worker API and the engine: token ids → the wire's
// {token, logprob, bytes, top_logprobs} (as llama-server writes them), and the logit_bias map
// (string keys, as JSON objects have) → the sampler's Map.
import type { TokenLogprob } from '../engine/logprobs.ts';
import { EngineError } from '../shared/errors.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { ChatCompletionParams, TokenLogprobInfo, TopLogprob } from './api.ts';

/** OpenAI's range for a logit_bias value. */
export const LOGIT_BIAS_LIMIT = 100;

/**
 * A token's text as llama-server reports it: the piece's bytes (control tokens: none) decoded, an
 * unfinished UTF-8 sequence at its end cut off (the bytes keep it); a leading space stays.
 */
export function tokenPiece(tok: Tokenizer, id: number): { token: string; bytes: number[] } {
  const b = tok.tokenBytes(id);
  return { token: new TextDecoder().decode(b.subarray(0, completeUtf8Length(b))), bytes: Array.from(b) };
}

/** Length of the longest prefix that does not end inside a UTF-8 sequence (llama.cpp's validate_utf8). */
function completeUtf8Length(b: Uint8Array): number {
  const n = b.length;
  for (let back = 1; back <= 4 && back <= n; back++) {
    const c = b[n - back];
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

export function logprobInfo(tok: Tokenizer, lp: TokenLogprob): TokenLogprobInfo {
  const top = (id: number, logprob: number): TopLogprob => ({ id, ...tokenPiece(tok, id), logprob });
  return { ...top(lp.id, lp.logprob), top_logprobs: lp.top.map((t) => top(t.id, t.logprob)) };
}

/** The engine's `logprobs` option from OpenAI's logprobs/top_logprobs: undefined when not asked for. */
export function logprobsOption(p: Pick<ChatCompletionParams, 'logprobs' | 'top_logprobs'>): number | undefined {
  return p.logprobs ? (p.top_logprobs ?? 0) : undefined;
}

/** logit_bias → the sampler's Map; a key that is not a token id or a value out of ±100 is a BAD_ARGUMENT. */
export function logitBiasMap(bias: Record<string, number> | undefined, vocabSize = Infinity): Map<number, number> | undefined {
  if (bias === undefined) return undefined;
  const out = new Map<number, number>();
  for (const [key, v] of Object.entries(bias)) {
    const id = /^\d+$/.test(key) ? Number(key) : NaN;
    if (!Number.isSafeInteger(id) || id >= vocabSize) {
      throw new EngineError('BAD_ARGUMENT', `logit_bias: key ${JSON.stringify(key)} is not a token id${vocabSize < Infinity ? ` (0..${vocabSize - 1})` : ''}.`);
    }
    if (typeof v !== 'number' || !(v >= -LOGIT_BIAS_LIMIT && v <= LOGIT_BIAS_LIMIT)) {
      throw new EngineError('BAD_ARGUMENT', `logit_bias: the bias of token ${key} must be a number in -${LOGIT_BIAS_LIMIT}..${LOGIT_BIAS_LIMIT} (got ${JSON.stringify(v)}).`);
    }
    out.set(id, v);
  }
  return out.size ? out : undefined;
}
