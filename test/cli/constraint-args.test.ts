// --grammar FILE / --json-schema FILE on the command line: for generate and bench, one at a time.
// Reading and compiling the file (and its errors) is tested in constraint-cli.test.ts.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.ts';

describe('--grammar / --json-schema', () => {
  it('take a file path, for generate and bench', () => {
    expect(parseCli(['bench', '--model', 'm.gguf', '--grammar', 'g.gbnf']).grammarFile).toBe('g.gbnf');
    expect(parseCli(['generate', '--model', 'm.gguf', '--prompt', 'x', '--json-schema', 's.json']).jsonSchemaFile).toBe('s.json');
    const plain = parseCli(['bench', '--model', 'm.gguf']);
    expect(plain.grammarFile ?? plain.jsonSchemaFile).toBeUndefined();
  });
  it('refuse both at once, an empty path, and other commands', () => {
    expect(() => parseCli(['bench', '--model', 'm.gguf', '--grammar', 'g', '--json-schema', 's'])).toThrow(/only one of/);
    expect(() => parseCli(['bench', '--model', 'm.gguf', '--json-schema', ''])).toThrow(/needs a file path/);
    expect(() => parseCli(['perplexity', '--model', 'm.gguf', '--file', 'x', '--json-schema', 's'])).toThrow(/for generate and bench/);
  });
});
