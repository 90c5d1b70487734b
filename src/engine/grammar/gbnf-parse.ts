// GBNF (llama.cpp's grammar format) → rules of alternatives over code-point sets and rule references.
// Follows the syntax of llama.cpp's grammars/README.md: `name ::= alt | alt`, "literals", [classes],
// [^negated], `.`, ( groups ), * + ? {m} {m,} {m,n}, # comments. Repetition is rewritten into
// helper rules the way llama.cpp does (S{m,n} → S…S then a chain of optional S), so the language
// is the same. Token references (<[id]>, <text>) are not supported yet and say so.
import { EngineError } from '../../shared/errors.ts';

/** A code-point set: `ranges` holds inclusive [lo, hi] pairs; `negate` inverts it. */
export interface CharElem { kind: 'char'; ranges: number[]; negate: boolean }
export interface RefElem { kind: 'ref'; rule: number }
export type Elem = CharElem | RefElem;
/** One alternative: a sequence of elements (empty = matches the empty string). */
export type Alt = Elem[];

export interface Grammar {
  /** rule names, by rule id (helper rules are named `base_N` as in llama.cpp) */
  names: string[];
  rules: Alt[][];
  root: number;
}

/** llama.cpp's limit on the rules a repetition may create (MAX_REPETITION_THRESHOLD). */
const MAX_REPETITIONS = 2000;

export function grammarError(message: string): EngineError {
  return new EngineError('GRAMMAR', message);
}

const isWord = (c: string | undefined): boolean => c !== undefined && /[a-zA-Z0-9-]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

class Parser {
  private pos = 0;
  private readonly ids = new Map<string, number>();
  private readonly rules: (Alt[] | undefined)[] = [];
  private readonly names: string[] = [];

  constructor(private readonly src: string) {}

  fail(what: string): never {
    const line = this.src.slice(0, this.pos).split('\n').length;
    const near = JSON.stringify(this.src.slice(this.pos, this.pos + 24));
    throw grammarError(`Grammar error on line ${line}: ${what} (at ${near}).`);
  }

  private symbol(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  private fresh(base: string): number {
    const id = this.names.length;
    const name = `${base}_${id}`;
    this.ids.set(name, id);
    this.names.push(name);
    return id;
  }

  private space(newlineOk: boolean): void {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || (newlineOk && (c === '\r' || c === '\n'))) this.pos++;
      else if (c === '#') while (this.pos < s.length && s[this.pos] !== '\r' && s[this.pos] !== '\n') this.pos++;
      else return;
    }
  }

  private name(): string {
    const start = this.pos;
    while (isWord(this.src[this.pos])) this.pos++;
    if (this.pos === start) this.fail('expected a rule name');
    return this.src.slice(start, this.pos);
  }

  private int(): number {
    const start = this.pos;
    while (isDigit(this.src[this.pos])) this.pos++;
    if (this.pos === start) this.fail('expected a number');
    return Number(this.src.slice(start, this.pos));
  }

  private hex(n: number): number {
    const h = this.src.slice(this.pos, this.pos + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) this.fail(`expected ${n} hex digits`);
    this.pos += n;
    return parseInt(h, 16);
  }

  /** One (possibly escaped) character of a literal or class, as a code point. */
  private char(): number {
    const s = this.src;
    if (this.pos >= s.length) this.fail('unexpected end of grammar');
    if (s[this.pos] === '\\') {
      const e = s[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case 'x': return this.hex(2);
        case 'u': return this.hex(4);
        case 'U': return this.hex(8);
        case 't': return 9;
        case 'r': return 13;
        case 'n': return 10;
        case '\\': case '"': case '[': case ']': case '-': return e.codePointAt(0)!;
        default: this.pos -= 2; this.fail('unknown escape');
      }
    }
    const cp = s.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  parse(): Grammar {
    this.space(true);
    while (this.pos < this.src.length) this.rule();
    for (let id = 0; id < this.names.length; id++) {
      if (!this.rules[id]) throw grammarError(`Grammar error: the rule "${this.names[id]}" is used but never defined.`);
    }
    const root = this.ids.get('root');
    if (root === undefined) throw grammarError('Grammar error: there is no "root" rule (generation starts from it).');
    return { names: this.names, rules: this.rules as Alt[][], root };
  }

  private rule(): void {
    const name = this.name();
    this.space(false);
    if (!this.src.startsWith('::=', this.pos)) this.fail('expected "::="');
    this.pos += 3;
    this.space(true);
    const id = this.symbol(name);
    this.rules[id] = this.alternates(name, false);
    const c = this.src[this.pos];
    if (c === '\r') this.pos += this.src[this.pos + 1] === '\n' ? 2 : 1;
    else if (c === '\n') this.pos++;
    else if (this.pos < this.src.length) this.fail('expected the end of the line');
    this.space(true);
  }

  private alternates(ruleName: string, nested: boolean): Alt[] {
    const alts = [this.sequence(ruleName, nested)];
    while (this.src[this.pos] === '|') {
      this.pos++;
      this.space(true);
      alts.push(this.sequence(ruleName, nested));
    }
    return alts;
  }

  private sequence(ruleName: string, nested: boolean): Alt {
    const seq: Elem[] = [];
    let lastStart = 0;
    // how many rules the last item stands for (nested repetitions multiply), as llama.cpp counts them
    let nPrev = 1;
    const s = this.src;
    const repeat = (min: number, max: number): void => {
      if (lastStart === seq.length) this.fail('nothing before */+/?/{ to repeat');
      const item = seq.slice(lastStart);
      const total = max !== Infinity && max > 0 ? max : Math.max(1, min);
      if (nPrev * total > MAX_REPETITIONS) this.fail('the repetitions multiply to more rules than llama.cpp allows (2000)');
      seq.length = lastStart;
      for (let i = 0; i < min; i++) seq.push(...item);
      if (max === Infinity) {
        // S' ::= S S' |
        const id = this.fresh(ruleName);
        this.rules[id] = [[...item, { kind: 'ref', rule: id }], []];
        seq.push({ kind: 'ref', rule: id });
      } else if (max > min) {
        // S'(1) ::= S | ;  S'(k) ::= S S'(k-1) |
        let prev = -1;
        for (let i = 0; i < max - min; i++) {
          const id = this.fresh(ruleName);
          this.rules[id] = [prev < 0 ? [...item] : [...item, { kind: 'ref', rule: prev }], []];
          prev = id;
        }
        seq.push({ kind: 'ref', rule: prev });
      }
      nPrev *= total;
    };
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '"') {
        this.pos++;
        lastStart = seq.length;
        nPrev = 1;
        while (s[this.pos] !== '"') {
          if (this.pos >= s.length) this.fail('unterminated string literal');
          const cp = this.char();
          seq.push({ kind: 'char', ranges: [cp, cp], negate: false });
        }
        this.pos++;
        this.space(nested);
      } else if (c === '[') {
        this.pos++;
        const negate = s[this.pos] === '^';
        if (negate) this.pos++;
        const ranges: number[] = [];
        while (s[this.pos] !== ']') {
          if (this.pos >= s.length) this.fail('unterminated character class');
          const lo = this.char();
          let hi = lo;
          if (s[this.pos] === '-' && s[this.pos + 1] !== ']') {
            this.pos++;
            hi = this.char();
          }
          ranges.push(lo, hi);
        }
        this.pos++;
        lastStart = seq.length;
        nPrev = 1;
        seq.push({ kind: 'char', ranges, negate });
        this.space(nested);
      } else if (c === '<' || c === '!') {
        this.fail('token references (<[id]> and <token>) are not supported');
      } else if (isWord(c)) {
        const id = this.symbol(this.name());
        this.space(nested);
        lastStart = seq.length;
        nPrev = 1;
        seq.push({ kind: 'ref', rule: id });
      } else if (c === '(') {
        this.pos++;
        this.space(true);
        const before = this.names.length;
        const id = this.fresh(ruleName);
        this.rules[id] = this.alternates(ruleName, true);
        nPrev = Math.max(1, this.names.length - before);
        lastStart = seq.length;
        seq.push({ kind: 'ref', rule: id });
        if (s[this.pos] !== ')') this.fail('expected ")"');
        this.pos++;
        this.space(nested);
      } else if (c === '.') {
        this.pos++;
        lastStart = seq.length;
        nPrev = 1;
        seq.push({ kind: 'char', ranges: [], negate: true });
        this.space(nested);
      } else if (c === '*' || c === '+' || c === '?') {
        this.pos++;
        this.space(nested);
        if (c === '*') repeat(0, Infinity);
        else if (c === '+') repeat(1, Infinity);
        else repeat(0, 1);
      } else if (c === '{') {
        this.pos++;
        this.space(nested);
        const min = this.int();
        this.space(nested);
        let max = Infinity;
        if (s[this.pos] === '}') {
          max = min;
        } else if (s[this.pos] === ',') {
          this.pos++;
          this.space(nested);
          if (isDigit(s[this.pos])) { max = this.int(); this.space(nested); }
          if (s[this.pos] !== '}') this.fail('expected "}"');
        } else {
          this.fail('expected "," or "}"');
        }
        this.pos++;
        this.space(nested);
        if (min > MAX_REPETITIONS) this.fail('more repetitions than llama.cpp allows (2000)');
        if (max !== Infinity && max > MAX_REPETITIONS) max = Infinity;
        if (max < min) this.fail(`{${min},${max}}: the maximum is below the minimum`);
        repeat(min, max);
      } else {
        break;
      }
    }
    return seq;
  }
}

/** Parses GBNF text; throws EngineError('GRAMMAR') naming the line and what is wrong. */
export function parseGBNF(src: string): Grammar {
  const g = new Parser(src).parse();
  checkLeftRecursion(g);
  return g;
}

/** Which rules can match the empty string (fixpoint). */
export function nullableRules(g: Grammar): boolean[] {
  const nullable = g.rules.map(() => false);
  for (let changed = true; changed;) {
    changed = false;
    g.rules.forEach((alts, id) => {
      if (nullable[id]) return;
      if (alts.some((alt) => alt.every((e) => e.kind === 'ref' && nullable[e.rule]))) {
        nullable[id] = changed = true;
      }
    });
  }
  return nullable;
}

/** A left-recursive rule would expand forever in the matcher (llama.cpp rejects these too). */
function checkLeftRecursion(g: Grammar): void {
  const nullable = nullableRules(g);
  const firsts = g.rules.map((alts) => {
    const refs = new Set<number>();
    for (const alt of alts) {
      for (const e of alt) {
        if (e.kind !== 'ref') break;
        refs.add(e.rule);
        if (!nullable[e.rule]) break;
      }
    }
    return refs;
  });
  const state = new Uint8Array(g.rules.length); // 0 unvisited, 1 on the path, 2 done
  const visit = (id: number): void => {
    state[id] = 1;
    for (const next of firsts[id]) {
      if (state[next] === 1) throw grammarError(`Grammar error: the rule "${g.names[next]}" is left-recursive; rewrite it with repetition (* or +).`);
      if (state[next] === 0) visit(next);
    }
    state[id] = 2;
  };
  for (let id = 0; id < g.rules.length; id++) if (state[id] === 0) visit(id);
}
