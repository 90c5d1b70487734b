// A JSON Schema "pattern" (ECMA-262 regex subset) → a GBNF expression for the characters between
// the quotes of a JSON string. Anchored patterns only (^…$), as llama.cpp; the output must stay a
// valid JSON string, so `"` and `\` come out escaped, and `.` and negated classes never produce a
// quote, a backslash or a control character. Anything else is EngineError('GRAMMAR') naming it.
import { grammarError } from './gbnf-parse.ts';

const SAFE_NOT = '"\\\\\\x00-\\x1F\\x7F'; // inside [^…]: what a raw JSON string character cannot be

/** GBNF for one code point inside [...] */
function classChar(cp: number): string {
  const c = String.fromCodePoint(cp);
  if (c === '\\' || c === ']' || c === '-' || c === '[' || c === '^' || c === '"') return `\\${c}`;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return c;
}

/** GBNF literal for one character of the decoded string (JSON-escaped as it appears in the text). */
function literal(c: string): string {
  if (c === '"') return '"\\\\\\""';
  if (c === '\\') return '"\\\\\\\\"';
  return `"${c}"`;
}

export function patternToGBNF(pattern: string, _addRule: (body: string) => string, path: string): string {
  const fail = (what: string): never => { throw grammarError(`JSON schema not supported at ${path}: the pattern ${JSON.stringify(pattern)} uses ${what}.`); };
  const invalid = (what: string): never => { throw grammarError(`JSON schema error at ${path}: the pattern ${JSON.stringify(pattern)} is not a valid regular expression (${what}).`); };
  if (!pattern.startsWith('^') || !pattern.endsWith('$') || pattern.endsWith('\\$')) fail('no ^…$ anchors (only whole-string patterns can be enforced)');
  const src = [...pattern.slice(1, -1)];
  let i = 0;

  const escapeClass = (e: string): number[] | null => {
    switch (e) {
      case 'd': return [0x30, 0x39];
      case 'w': return [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
      case 's': return [0x20, 0x20]; // a JSON string cannot hold raw tabs or newlines; spaces only
      default: return null;
    }
  };
  const isControl = (c: string) => c.codePointAt(0)! < 0x20 || c === '\x7f';
  const escapedChar = (e: string): string => {
    if (/[.\\/^$|?*+()[\]{}\-"]/.test(e)) return e;
    if ('DWSbBnrtfv'.includes(e) || /[0-9]/.test(e)) return fail(`the escape \\${e}`);
    return fail(`the escape \\${e}`);
  };

  const charClass = (): string => {
    i++; // [
    const negate = src[i] === '^';
    if (negate) i++;
    const ranges: number[] = [];
    let first = true;
    while (i < src.length && (src[i] !== ']' || first)) {
      first = false;
      let lo: number;
      if (src[i] === '\\') {
        const set = escapeClass(src[i + 1] ?? '');
        if (set) { ranges.push(...set); i += 2; continue; }
        lo = escapedChar(src[i + 1] ?? invalid('a trailing backslash')).codePointAt(0)!;
        i += 2;
      } else {
        lo = src[i++].codePointAt(0)!;
      }
      let hi = lo;
      if (src[i] === '-' && src[i + 1] !== undefined && src[i + 1] !== ']') {
        i++;
        if (src[i] === '\\') { hi = escapedChar(src[i + 1] ?? invalid('a trailing backslash')).codePointAt(0)!; i += 2; }
        else hi = src[i++].codePointAt(0)!;
        if (hi < lo) invalid('a range out of order');
      }
      ranges.push(lo, hi);
    }
    if (src[i] !== ']') invalid('an unterminated character class');
    i++;
    const body = [];
    for (let k = 0; k < ranges.length; k += 2) {
      const [lo, hi] = [ranges[k], ranges[k + 1]];
      if (!negate && ((lo <= 0x22 && hi >= 0x22) || (lo <= 0x5c && hi >= 0x5c) || lo < 0x20)) {
        fail('a quote, backslash or control character in a character class');
      }
      body.push(lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`);
    }
    return negate ? `[^${body.join('')}${SAFE_NOT}]` : `[${body.join('')}]`;
  };

  const atom = (): string => {
    const c = src[i];
    if (c === '(') {
      i++;
      if (src[i] === '?') {
        if (src[i + 1] !== ':') fail('a group other than (…) and (?:…)');
        i += 2;
      }
      const inner = alternation();
      if (src[i] !== ')') invalid('unbalanced parentheses');
      i++;
      return `(${inner})`;
    }
    if (c === '[') return charClass();
    if (c === '.') { i++; return `[^${SAFE_NOT}]`; }
    if (c === '^' || c === '$') fail('an anchor inside the pattern');
    if (c === '\\') {
      const e = src[i + 1] ?? invalid('a trailing backslash');
      i += 2;
      const set = escapeClass(e);
      if (set) {
        const parts = [];
        for (let k = 0; k < set.length; k += 2) parts.push(set[k] === set[k + 1] ? classChar(set[k]) : `${classChar(set[k])}-${classChar(set[k + 1])}`);
        return `[${parts.join('')}]`;
      }
      return literal(escapedChar(e));
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') invalid('nothing to repeat');
    if (isControl(c)) fail('a control character');
    i++;
    return literal(c);
  };

  const quantified = (): string => {
    let term = atom();
    for (;;) {
      const c = src[i];
      let q: string | null = null;
      if (c === '*' || c === '+' || c === '?') { q = c; i++; }
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i).join(''));
        if (!m) fail('a "{" that is not a {m}, {m,} or {m,n} repetition');
        const [all, lo, comma, hi] = m!;
        if (hi && Number(hi) < Number(lo)) invalid('a repetition {m,n} with n < m');
        q = comma ? `{${lo},${hi}}` : `{${lo}}`;
        i += all.length;
      }
      if (!q) return term;
      if (src[i] === '?') i++; // lazy: the same strings
      term = `(${term})${q}`;
    }
  };

  const sequence = (): string => {
    const parts: string[] = [];
    while (i < src.length && src[i] !== '|' && src[i] !== ')') parts.push(quantified());
    return parts.join(' ');
  };

  function alternation(): string {
    const alts = [sequence()];
    while (src[i] === '|') { i++; alts.push(sequence()); }
    return alts.map((a) => a || '""').join(' | ');
  }

  const out = alternation();
  if (i < src.length) invalid('unbalanced parentheses');
  return out || '""';
}
