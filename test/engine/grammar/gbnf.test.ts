// GBNF parsing and the pushdown matcher, on llama.cpp's own grammars/ files (read from the llama.cpp
// source node-llama-cpp bundles, at the commit of our llama-server) and on small hand-written ones.
import { describe, expect, it } from 'vitest';
import { parseGBNF } from '../../../src/engine/grammar/gbnf-parse.ts';
import { GrammarMatcher } from '../../../src/engine/grammar/matcher.ts';
import { EngineError } from '../../../src/shared/errors.ts';
import { llamaCppSourceText } from '../../tokenizer/llama-cpp-models.ts';

const FILES = ['json', 'json_arr', 'arithmetic', 'list', 'chess', 'c', 'english', 'japanese'];
const upstream = (name: string) => new GrammarMatcher(parseGBNF(llamaCppSourceText(`grammars/${name}.gbnf`)));
const own = (src: string) => new GrammarMatcher(parseGBNF(src));

function grammarError(f: () => unknown): EngineError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('GRAMMAR');
    return e as EngineError;
  }
  throw new Error('expected a GRAMMAR error');
}

describe('llama.cpp grammars/ files', () => {
  for (const name of FILES) {
    it(`${name}.gbnf parses and has a root`, () => {
      const g = parseGBNF(llamaCppSourceText(`grammars/${name}.gbnf`));
      expect(g.names[g.root]).toBe('root');
      expect(g.rules.length).toBeGreaterThan(1);
    });
  }

  it('json.gbnf: accepts JSON objects, rejects other JSON and broken text', () => {
    const m = upstream('json');
    for (const s of ['{}', '{"a": 1}', '{"a": [1, -2.5e3, "x\\n\\u00e9", true, null], "b": {"c": {}}}', '{"é": "日本"}\n']) {
      expect(m.matchesString(s), s).toBe(true);
    }
    for (const s of ['[1]', '"x"', '{"a" 1}', '{"a": 01}', '{"a": "\\q"}', '{"a": "tab\there"}', '{a: 1}', '{"a": 1,}']) {
      expect(m.matchesString(s), s).toBe(false);
    }
    expect(m.acceptsPrefix('{"a": [1, ')).toBe(true);
    expect(m.matchesString('{"a": [1, ')).toBe(false);
  });

  it('json_arr.gbnf: a list of objects', () => {
    const m = upstream('json_arr');
    expect(m.matchesString('[\n{"a": 1},\n{"b": [2]}]')).toBe(true);
    expect(m.matchesString('[{"a": 1}, {"b": [2]}]')).toBe(false); // it wants a newline after "[" and each ","
    expect(m.matchesString('[\n{"a": 1}] ')).toBe(false); // and nothing after the root array
    expect(m.matchesString('{"a": 1}')).toBe(false);
  });

  it('arithmetic.gbnf', () => {
    const m = upstream('arithmetic');
    for (const s of ['x=1\n', '(a +b) *3=c\n', 'x1=2\ny=(x1/4)\n']) expect(m.matchesString(s), s).toBe(true);
    for (const s of ['x==1\n', '=1\n', 'X=1\n', 'x=1', 'x=a+ b\n']) expect(m.matchesString(s), s).toBe(false);
  });

  it('list.gbnf', () => {
    const m = upstream('list');
    expect(m.matchesString('- milk\n- eggs\n')).toBe(true);
    expect(m.matchesString('- milk')).toBe(false);
    expect(m.acceptsPrefix('- milk')).toBe(true);
    expect(m.matchesString('- \n')).toBe(false);
    expect(m.matchesString('* milk\n')).toBe(false);
    expect(m.matchesString('- a\u2028b\n')).toBe(false); // the excluded line separators, as code points
  });

  it('chess.gbnf', () => {
    const m = upstream('chess');
    expect(m.matchesString('1. e4 e5\n2. Nf3 Nc6\n')).toBe(true);
    expect(m.matchesString('1. e4 e5\n2. O-O-O exd8=Q+\n')).toBe(true);
    expect(m.matchesString('1. e9 e5\n2. Nf3 Nc6\n')).toBe(false);
    expect(m.matchesString('1. e4 e5\n')).toBe(false); // needs a second move line
  });

  it('japanese.gbnf takes multi-byte code points', () => {
    const m = upstream('japanese');
    expect(m.acceptsPrefix('こんにちは')).toBe(true);
  });
});

describe('GBNF syntax', () => {
  it('repetition {m}, {m,}, {m,n}, ?, *, + and groups', () => {
    const m = own('root ::= "a"{2,3} ("b" | "cd")? [0-9]* x{1,}\nx ::= "!"');
    for (const s of ['aa!', 'aaa!', 'aab!', 'aacd12!!']) expect(m.matchesString(s), s).toBe(true);
    for (const s of ['a!', 'aaaa!', 'aab', 'aabcd!']) expect(m.matchesString(s), s).toBe(false);
    const lit = own('root ::= "ab"+');
    expect(lit.matchesString('abab')).toBe(true);
    expect(lit.matchesString('abb')).toBe(false); // repeats the whole literal, as llama.cpp
  });

  it('character classes, negation, escapes, any char, comments and CRLF', () => {
    const m = own('# comment\r\nroot ::= [^a-c\\n] "\\x41\\u00e9\\U0001F600\\t" . # trailing\r\n');
    expect(m.matchesString('\nAé😀\tz')).toBe(false); // the class excludes \n
    expect(own('root ::= .').matchesString('\n')).toBe(true);
    expect(m.matchesString('dAé😀\tz')).toBe(true);
    expect(m.matchesString('bAé😀\tz')).toBe(false);
    expect(own('root ::= [\\]\\-]').matchesString('-')).toBe(true);
  });

  it('bytes: UTF-8 split across inputs, no overlong forms or surrogates', () => {
    const m = own('root ::= [é] [\\u4e00-\\u9fff] [\\U0001F600]');
    let s = m.acceptBytes(m.initial, Uint8Array.of(0xc3));
    expect(s).not.toBeNull();
    s = m.acceptBytes(s, Uint8Array.of(0xa9, 0xe4, 0xb8));
    expect(s).not.toBeNull();
    s = m.acceptBytes(s, Uint8Array.of(0x80, 0xf0, 0x9f, 0x98, 0x80));
    expect(s && m.isComplete(s)).toBe(true);
    expect(m.acceptBytes(m.initial, Uint8Array.of(0xc3, 0xa8))).toBeNull(); // è
    expect(m.acceptBytes(m.initial, Uint8Array.of(0xe0))).toBeNull(); // no 3-byte code point starts é's set
    const brace = own('root ::= "{"');
    expect(brace.acceptBytes(brace.initial, Uint8Array.of(0xf0, 0x80, 0x81, 0xbb))).toBeNull(); // overlong "{"
    expect(brace.acceptBytes(brace.initial, Uint8Array.of(0xc1, 0xbb))).toBeNull();
    const any = own('root ::= .');
    expect(any.acceptBytes(any.initial, Uint8Array.of(0xed, 0xa0, 0x80))).toBeNull(); // a surrogate
    expect(any.acceptBytes(any.initial, Uint8Array.of(0x80))).toBeNull();
  });

  it('malformed grammars are GRAMMAR errors that say what is wrong', () => {
    expect(grammarError(() => parseGBNF('root = "a"')).message).toMatch(/expected "::="/);
    expect(grammarError(() => parseGBNF('root ::= x')).message).toMatch(/"x" is used but never defined/);
    expect(grammarError(() => parseGBNF('root ::= "abc')).message).toMatch(/unterminated string/);
    expect(grammarError(() => parseGBNF('root ::= [abc')).message).toMatch(/unterminated character class/);
    expect(grammarError(() => parseGBNF('root ::= ("a"')).message).toMatch(/expected "\)"/);
    expect(grammarError(() => parseGBNF('x ::= "a"')).message).toMatch(/no "root" rule/);
    expect(grammarError(() => parseGBNF('root ::= "\\q"')).message).toMatch(/unknown escape/);
    expect(grammarError(() => parseGBNF('root ::= * "a"')).message).toMatch(/nothing before/);
    expect(grammarError(() => parseGBNF('root ::= "a"{3,2}')).message).toMatch(/maximum is below/);
    expect(grammarError(() => parseGBNF('root ::= <[12]>')).message).toMatch(/token references/);
    expect(grammarError(() => parseGBNF('root ::= root "a" | "a"')).message).toMatch(/"root" is left-recursive/);
    expect(grammarError(() => parseGBNF('root ::= x "a"\nx ::= "b"? root')).message).toMatch(/left-recursive/);
    expect(grammarError(() => parseGBNF('root ::= "a" "b"\n junk')).message).toMatch(/line 2/);
  });
});
