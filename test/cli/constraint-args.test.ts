// --grammar FILE / --json-schema FILE: read at parse time (so --browser carries the text), for generate and bench.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'constraint-args-'));
const file = (name: string, text: string) => { const f = path.join(dir, name); writeFileSync(f, text); return f; };

describe('--grammar / --json-schema', () => {
  it('reads the GBNF text and the parsed schema', () => {
    const g = file('g.gbnf', 'root ::= "yes" | "no"\n');
    expect(parseCli(['bench', '--model', 'm.gguf', '--grammar', g]).grammar).toBe('root ::= "yes" | "no"\n');
    const s = file('s.json', '{"type":"object"}');
    expect(parseCli(['generate', '--model', 'm.gguf', '--prompt', 'x', '--json-schema', s]).jsonSchema).toEqual({ type: 'object' });
    expect(parseCli(['bench', '--model', 'm.gguf']).grammar).toBeUndefined();
  });
  it('refuses both at once, unreadable or non-JSON files, and other commands', () => {
    const s = file('s2.json', '{}');
    expect(() => parseCli(['bench', '--model', 'm.gguf', '--grammar', s, '--json-schema', s])).toThrow(/only one of/);
    expect(() => parseCli(['bench', '--model', 'm.gguf', '--json-schema', path.join(dir, 'missing.json')])).toThrow(/--json-schema: cannot read/);
    expect(() => parseCli(['bench', '--model', 'm.gguf', '--json-schema', file('bad.json', '{oops')])).toThrow(/is not JSON/);
    expect(() => parseCli(['perplexity', '--model', 'm.gguf', '--file', 'x', '--json-schema', s])).toThrow(/for generate and bench/);
  });
});
