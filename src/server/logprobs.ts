// logprobs and logit_bias on the wire: the request fields checked (a 400 naming the field), and the
// legacy /v1/completions shape {tokens, token_logprobs, top_logprobs, text_offset} built from the
// per-token entries the chat shape (choices[].logprobs.content) carries as they are.
import { MAX_TOP_LOGPROBS } from '../engine/logprobs.ts';
import { isEngineError } from '../shared/errors.ts';
import type { ChatCompletionParams, TokenLogprobInfo } from '../worker/api.ts';
import { logitBiasMap } from '../worker/logprobs.ts';
import { badRequest } from './api-error.ts';

type Body = Record<string, unknown>;
type LogprobFields = Pick<ChatCompletionParams, 'logprobs' | 'top_logprobs' | 'logit_bias'>;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const absent = (v: unknown): boolean => v === undefined || v === null;

function topCount(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TOP_LOGPROBS) {
    throw badRequest(`'${name}' must be a whole number in 0..${MAX_TOP_LOGPROBS} (got ${JSON.stringify(v)}).`, name);
  }
  return v;
}

/** OpenAI's logit_bias: an object of token id (string) → number in -100..100; `vocabSize` bounds the ids. */
function logitBias(b: Body, vocabSize?: number): LogprobFields {
  const v = b.logit_bias;
  if (absent(v)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`'logit_bias' must be an object of token id → bias (got ${typeName(v)}).`, 'logit_bias');
  try {
    logitBiasMap(v as Record<string, number>, vocabSize);
  } catch (e) {
    if (isEngineError(e)) throw badRequest(e.message, 'logit_bias');
    throw e;
  }
  return Object.keys(v as Body).length ? { logit_bias: v as Record<string, number> } : {};
}

/** Chat: `logprobs: true` and `top_logprobs: 0..20` (which needs logprobs, as OpenAI and llama-server say). */
export function chatLogprobFields(b: Body, vocabSize?: number): LogprobFields {
  const out = logitBias(b, vocabSize);
  if (!absent(b.logprobs) && typeof b.logprobs !== 'boolean') throw badRequest(`'logprobs' must be true or false (got ${typeName(b.logprobs)}).`, 'logprobs');
  const on = b.logprobs === true;
  if (!absent(b.top_logprobs)) {
    if (!on) throw badRequest(`'top_logprobs' needs 'logprobs' set to true.`, 'top_logprobs');
    out.top_logprobs = topCount(b.top_logprobs, 'top_logprobs');
  }
  if (on) out.logprobs = true;
  return out;
}

/** Text completions (legacy): `logprobs: N` asks for the chosen token's logprob and N alternatives. */
export function textLogprobFields(b: Body, vocabSize?: number): LogprobFields {
  const out = logitBias(b, vocabSize);
  if (!absent(b.logprobs)) Object.assign(out, { logprobs: true, top_logprobs: topCount(b.logprobs, 'logprobs') });
  return out;
}

export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: number[];
  /** per token: alternative text → logprob (tokens with the same text: the likelier one) */
  top_logprobs: Record<string, number>[];
  /** where each token starts in the answer's text (JavaScript string indices) */
  text_offset: number[];
}

/**
 * The legacy shape of the tokens behind `text`, which starts at `offset` in the answer. A token's
 * offset is where its text starts, within `text` (the first token may have lost its leading space).
 */
export function legacyLogprobs(entries: readonly TokenLogprobInfo[], text: string, offset: number): LegacyLogprobs {
  const out: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  // the answer's first token may have had its leading space dropped (SPM vocabularies)
  const first = entries[0]?.token ?? '';
  let at = !text.startsWith(first) && text.startsWith(first.trimStart()) ? first.trimStart().length - first.length : 0;
  for (const e of entries) {
    out.tokens.push(e.token);
    out.token_logprobs.push(e.logprob);
    const top = new Map<string, number>();
    for (const t of e.top_logprobs) if (!top.has(t.token)) top.set(t.token, t.logprob);
    out.top_logprobs.push(Object.fromEntries(top));
    out.text_offset.push(offset + Math.max(0, Math.min(at, text.length)));
    at += e.token.length;
  }
  return out;
}
