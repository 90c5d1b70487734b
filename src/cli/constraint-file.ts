// --grammar FILE / --json-schema FILE: read and compiled before the model loads, so a bad file fails
// at once with its name and the problem (a GRAMMAR error, exit 2 like a bad argument) instead of
// after a long load. Node-only: the --browser runner reads the file here too and sends the text.
import { readFile } from 'node:fs/promises';
import { compileGrammar, constraintGrammar } from '../engine/grammar/compile.ts';
import { EngineError, isEngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';

/** What Session.generate takes: GBNF text, or a parsed JSON schema. */
export interface CliConstraint {
  grammar?: string;
  jsonSchema?: unknown;
}

export async function readConstraint(o: CliOptions): Promise<CliConstraint | undefined> {
  const file = o.grammarFile ?? o.jsonSchemaFile;
  if (file === undefined) return undefined;
  const flag = o.grammarFile !== undefined ? '--grammar' : '--json-schema';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EngineError('IO', `${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  const fail = (why: string): never => { throw new EngineError('GRAMMAR', `${flag} ${file}: ${why}`); };
  let c: CliConstraint;
  if (o.grammarFile !== undefined) {
    c = { grammar: text };
  } else {
    try {
      c = { jsonSchema: JSON.parse(text) as unknown };
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message}).`);
    }
  }
  try {
    compileGrammar(constraintGrammar(c!)!);
  } catch (e) {
    if (!isEngineError(e)) throw e;
    fail(e.message);
  }
  return c!;
}
