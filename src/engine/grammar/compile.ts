// A request's output constraint (a GBNF grammar or an OpenAI response_format) compiled once:
// grammar text → parsed rules → matcher, cached by text, with the vocabulary masks cached per
// tokenizer, so a repeated schema costs nothing to set up again.
import { EngineError } from '../../shared/errors.ts';
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { parseGBNF } from './gbnf-parse.ts';
import { schemaToGBNF } from './json-schema.ts';
import { GrammarMatcher } from './matcher.ts';
import { GrammarConstraint, TokenMask } from './token-mask.ts';

/** OpenAI's response_format (and llama-server's: a json_object may carry a schema). */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object'; schema?: unknown }
  | { type: 'json_schema'; json_schema: { name?: string; schema?: unknown; strict?: boolean | null } };

export interface ConstraintOptions {
  /** GBNF text (llama.cpp's `grammar`) */
  grammar?: string;
  responseFormat?: ResponseFormat;
  /** a JSON schema directly (llama-server's `json_schema`) */
  jsonSchema?: unknown;
}

/** GBNF for the options, or null when the output is unconstrained. */
export function constraintGrammar(o: ConstraintOptions): string | null {
  const given = [o.grammar !== undefined, o.jsonSchema !== undefined, o.responseFormat !== undefined && o.responseFormat.type !== 'text'];
  if (given.filter(Boolean).length > 1) {
    throw new EngineError('GRAMMAR', 'Give only one of grammar, json_schema and response_format.');
  }
  if (o.grammar !== undefined) {
    if (typeof o.grammar !== 'string') throw new EngineError('GRAMMAR', 'grammar must be GBNF text.');
    return o.grammar;
  }
  if (o.jsonSchema !== undefined) return schemaToGBNF(o.jsonSchema);
  const rf = o.responseFormat;
  if (!rf || rf.type === 'text') return null;
  if (rf.type === 'json_object') return schemaToGBNF(rf.schema ?? { type: 'object' });
  if (rf.type === 'json_schema') {
    const schema = rf.json_schema?.schema;
    if (schema === undefined) throw new EngineError('GRAMMAR', 'response_format json_schema needs json_schema.schema.');
    return schemaToGBNF(schema);
  }
  throw new EngineError('GRAMMAR', `Unknown response_format type ${JSON.stringify((rf as { type: unknown }).type)} (text, json_object or json_schema).`);
}

const CACHE = 32;
const matchers = new Map<string, GrammarMatcher>();
const masks = new WeakMap<Tokenizer, Map<GrammarMatcher, TokenMask>>();

export function compileGrammar(gbnf: string): GrammarMatcher {
  let m = matchers.get(gbnf);
  if (m) {
    matchers.delete(gbnf);
  } else {
    m = new GrammarMatcher(parseGBNF(gbnf));
  }
  matchers.set(gbnf, m);
  if (matchers.size > CACHE) matchers.delete(matchers.keys().next().value!);
  return m;
}

/** A fresh per-request constraint for this tokenizer, or null when the options constrain nothing. */
export function compileConstraint(t: Tokenizer, o: ConstraintOptions): GrammarConstraint | null {
  const gbnf = constraintGrammar(o);
  if (gbnf === null) return null;
  const m = compileGrammar(gbnf);
  let perVocab = masks.get(t);
  if (!perVocab) masks.set(t, (perVocab = new Map()));
  let mask = perVocab.get(m);
  if (!mask) {
    mask = new TokenMask(m, t);
    perVocab.set(m, mask);
    // keep only masks of matchers still in the cache
    for (const k of perVocab.keys()) if (![...matchers.values()].includes(k)) perVocab.delete(k);
    perVocab.set(m, mask);
  }
  return new GrammarConstraint(mask);
}
