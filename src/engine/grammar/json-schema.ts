// JSON Schema → GBNF, for OpenAI's response_format json_schema and llama-server's json_schema.
// The grammar accepts the same JSON text as llama.cpp's json-schema-to-grammar (same whitespace
// rule, same primitives, properties in schema order: required first, then the optional ones in
// order, then additional ones), so greedy decoding picks the same tokens as llama-server. Anything
// the grammar cannot enforce is an EngineError('GRAMMAR') naming the keyword, rather than an
// answer that then fails validation.
import { grammarError } from './gbnf-parse.ts';
import { patternToGBNF } from './regex.ts';

type Schema = Record<string, unknown>;

const SPACE = '| " " | "\\n"{1,2} [ \\t]{0,20}';
const CHAR = '[^"\\\\\\x7F\\x00-\\x1F] | [\\\\] (["\\\\bfnrt] | "u" [0-9a-fA-F]{4})';

/** Built-in rules and the ones each needs. */
const PRIMITIVES: Record<string, [string, string[]]> = {
  boolean: ['("true" | "false")', []],
  'decimal-part': ['[0-9]{1,16}', []],
  'integral-part': ['[0] | [1-9] [0-9]{0,15}', []],
  number: ['("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?', ['integral-part', 'decimal-part']],
  integer: ['("-"? integral-part)', ['integral-part']],
  value: ['object | array | string | number | boolean | null', ['object', 'array', 'string', 'number', 'boolean', 'null']],
  object: ['"{" space ( string ":" space value ("," space string ":" space value)* )? space "}"', ['string', 'value']],
  array: ['"[" space ( value ("," space value)* )? space "]"', ['value']],
  uuid: ['"\\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\\""', []],
  char: [CHAR, []],
  string: ['"\\"" char* "\\""', ['char']],
  null: ['"null"', []],
  date: ['[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )', []],
  time: ['([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )', []],
  'date-time': ['date "T" time', ['date', 'time']],
  'date-string': ['"\\"" date "\\""', ['date']],
  'time-string': ['"\\"" time "\\""', ['time']],
  'date-time-string': ['"\\"" date-time "\\""', ['date-time']],
};

/** Keywords that only describe (no effect on what is valid). */
const ANNOTATIONS = new Set(['title', 'description', '$schema', '$id', '$comment', 'default', 'examples', 'deprecated',
  'readOnly', 'writeOnly', '$defs', 'definitions', 'strict']);
/** Keywords we enforce (per type below). */
const ENFORCED = new Set(['type', '$ref', 'anyOf', 'oneOf', 'const', 'enum', 'properties', 'required', 'additionalProperties',
  'items', 'prefixItems', 'minItems', 'maxItems', 'pattern', 'format', 'minLength', 'maxLength',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);
const FORMATS = new Set(['date', 'time', 'date-time', 'uuid', 'uuid1', 'uuid2', 'uuid3', 'uuid4', 'uuid5']);

/** A GBNF literal for text (a JSON token sequence). */
export function gbnfLiteral(text: string): string {
  return `"${text.replace(/[\r\n"\\]/g, (c) => ({ '\r': '\\r', '\n': '\\n', '"': '\\"', '\\': '\\\\' })[c]!)}"`;
}

class Converter {
  readonly rules = new Map<string, string>([['space', SPACE]]);
  private readonly refs = new Map<string, string>();

  constructor(private readonly root: unknown) {}

  /** Adds a rule under a name derived from `name` (suffixed when taken by a different body). */
  add(name: string, body: string): string {
    const base = name.replace(/[^a-zA-Z0-9-]+/g, '-') || 'rule';
    let n = base;
    for (let i = 1; this.rules.has(n) && this.rules.get(n) !== body; i++) n = `${base}${i}`;
    this.rules.set(n, body);
    return n;
  }

  primitive(name: string): string {
    if (!this.rules.has(name)) {
      const [body, deps] = PRIMITIVES[name];
      this.rules.set(name, body);
      for (const d of deps) this.primitive(d);
    }
    return name;
  }

  /** The rule for `s`, named after where it sits (root, root-name, root-item, …). */
  visit(s: unknown, name: string, path: string): string {
    const ruleName = name in PRIMITIVES || name === 'space' ? `${name}-` : name;
    if (s === true) return this.add(ruleName, this.primitive('value'));
    if (s === false) throw unsupported(path, 'a schema of false (nothing is valid)');
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw grammarError(`JSON schema error at ${path}: a schema must be an object.`);
    const o = s as Schema;
    for (const k of Object.keys(o)) {
      if (!ANNOTATIONS.has(k) && !ENFORCED.has(k)) throw unsupported(path, `the keyword "${k}"`);
    }
    if (o.$ref !== undefined) return this.ref(o.$ref, path);
    for (const key of ['oneOf', 'anyOf'] as const) {
      if (o[key] === undefined) continue;
      const alts = o[key];
      if (!Array.isArray(alts) || alts.length === 0) throw grammarError(`JSON schema error at ${path}/${key}: must be a non-empty array of schemas.`);
      // siblings of anyOf/oneOf would have to hold for every branch: only annotations may sit beside them
      const extra = Object.keys(o).filter((k) => k !== key && !ANNOTATIONS.has(k));
      if (extra.length) throw unsupported(path, `"${extra[0]}" next to "${key}" (move it into each alternative)`);
      return this.add(ruleName, alts.map((a, i) => this.visit(a, `${name}-${i}`, `${path}/${key}/${i}`)).join(' | '));
    }
    if (Array.isArray(o.type)) {
      if (o.type.length === 0) throw grammarError(`JSON schema error at ${path}: "type" must not be an empty array.`);
      return this.add(ruleName, o.type.map((t, i) => this.visit({ ...o, type: t }, `${name}-${i}`, `${path}/type/${i}`)).join(' | '));
    }
    if (o.const !== undefined) return this.add(ruleName, gbnfLiteral(JSON.stringify(o.const)));
    if (o.enum !== undefined) {
      if (!Array.isArray(o.enum) || o.enum.length === 0) throw grammarError(`JSON schema error at ${path}/enum: must be a non-empty array.`);
      return this.add(ruleName, `(${o.enum.map((v) => gbnfLiteral(JSON.stringify(v))).join(' | ')})`);
    }
    const type = o.type === undefined ? inferType(o) : o.type;
    switch (type) {
      case 'object': return this.add(ruleName, this.object(o, name, path));
      case 'array': return this.add(ruleName, this.array(o, name, path));
      case 'string': return this.add(ruleName, this.string(o, name, path));
      case 'integer': return this.add(ruleName, integerRule(o, path) ?? this.primitive('integer'));
      case 'number':
        for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) if (k in o) throw unsupported(path, `"${k}" on a number (only on an integer)`);
        return this.add(ruleName, this.primitive('number'));
      case 'boolean': return this.add(ruleName, this.primitive('boolean'));
      case 'null': return this.add(ruleName, this.primitive('null'));
      case undefined: return this.add(ruleName, this.primitive('value'));
      default: throw grammarError(`JSON schema error at ${path}: unknown type ${JSON.stringify(type)}.`);
    }
  }

  private ref(ref: unknown, path: string): string {
    if (typeof ref !== 'string' || !ref.startsWith('#')) throw unsupported(path, `the $ref ${JSON.stringify(ref)} (only "#/…" into the same schema)`);
    const known = this.refs.get(ref);
    if (known) return known;
    let target: unknown = this.root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof target !== 'object' || target === null || !(key in target)) throw grammarError(`JSON schema error at ${path}: cannot resolve $ref ${ref}.`);
      target = (target as Schema)[key];
    }
    // name it first, so that a recursive schema refers back to this rule
    const name = this.add(`ref${ref.slice(1)}`, '"PENDING"');
    this.refs.set(ref, name);
    const body = this.visit(target, `${name}-def`, ref);
    this.rules.set(name, body);
    return name;
  }

  private object(o: Schema, name: string, path: string): string {
    const props = (o.properties ?? {}) as Schema;
    if (typeof props !== 'object' || Array.isArray(props)) throw grammarError(`JSON schema error at ${path}/properties: must be an object.`);
    const required = new Set(Array.isArray(o.required) ? o.required.filter((r): r is string => typeof r === 'string') : []);
    for (const r of required) if (!(r in props)) throw unsupported(path, `"required" naming "${r}", which is not in "properties"`);
    const ap = o.additionalProperties;
    // as llama.cpp: with properties, nothing else unless additionalProperties says so; without, any object
    const additional = ap === undefined ? (o.properties === undefined ? true : false) : ap;
    if (o.properties === undefined && additional === true) return this.primitive('object');
    const sub = (k: string) => `${name}-${k}`;
    const kv = new Map<string, string>();
    const req: string[] = [], opt: string[] = [];
    for (const [k, v] of Object.entries(props)) {
      const value = this.visit(v, sub(k), `${path}/properties/${k}`);
      kv.set(k, this.add(`${sub(k)}-kv`, `${gbnfLiteral(JSON.stringify(k))} space ":" space ${value}`));
      (required.has(k) ? req : opt).push(k);
    }
    if (additional !== false) {
      const value = additional === true ? this.primitive('value') : this.visit(additional, `${name}-additional-value`, `${path}/additionalProperties`);
      const names = Object.keys(props);
      const key = names.length ? this.add(`${name}-additional-k`, this.notStrings(names)) : this.primitive('string');
      kv.set('*', this.add(`${name}-additional-kv`, `${key} ":" space ${value}`));
      opt.push('*');
    }
    if (!req.length && !opt.length) return '"{" space "}"';
    let rule = `"{" space ${req.map((k) => kv.get(k)).join(' "," space ')}`;
    if (opt.length) {
      // optional ones keep their order; any of them may come first, each later one may follow
      const chain = (ks: string[], firstOptional: boolean): string => {
        const [k, ...rest] = ks;
        const r = kv.get(k)!;
        const comma = `( "," space ${r} )`;
        let res = firstOptional ? comma + (k === '*' ? '*' : '?') : r + (k === '*' ? ` ${comma}*` : '');
        if (rest.length) res += ` ${this.add(`${name}-${k === '*' ? 'additional' : k}-rest`, chain(rest, true))}`;
        return res;
      };
      const choices = opt.map((_, i) => chain(opt.slice(i), false)).join(' | ');
      rule += req.length ? ` ( "," space ( ${choices} ) )?` : ` ( ${choices} )?`;
    }
    return `${rule} space "}"`;
  }

  /**
   * A JSON string other than the given ones (additional property names). llama.cpp's version
   * cannot stop on a proper prefix of a name and lets a raw backslash through; this one is exact.
   */
  private notStrings(names: string[]): string {
    type Node = Map<string, Node> & { end?: boolean };
    const root: Node = new Map();
    for (const n of names) {
      let node = root;
      for (const c of n) {
        if (!node.has(c)) node.set(c, new Map());
        node = node.get(c)!;
      }
      node.end = true;
    }
    const char = this.primitive('char');
    const esc = (c: string) => c.replace(/[\\\]\-"^]/g, (x) => `\\${x}`).replace(/[\r\n]/g, (x) => (x === '\r' ? '\\r' : '\\n'));
    // at a node: stop (if no name ends here), or a child char, or any other char followed by anything
    const visit = (node: Node): string => {
      const alts: string[] = [];
      for (const [c, child] of node) alts.push(`${gbnfLiteral(c)} ${visit(child)}`);
      const others = [...node.keys()].map(esc).join('');
      alts.push(`( [^"\\\\\\x7F\\x00-\\x1F${others}] | [\\\\] (["\\\\bfnrt] | "u" [0-9a-fA-F]{4}) ) ${char}*`);
      return `( ${alts.join(' | ')} )${node.end ? '' : '?'}`;
    };
    return `"\\"" ${visit(root)} "\\""`;
  }

  private array(o: Schema, name: string, path: string): string {
    const min = count(o, 'minItems', path) ?? 0;
    const max = count(o, 'maxItems', path) ?? Infinity;
    // a tuple: items as an array (draft 7), or prefixItems (2020-12) with nothing after them (items false or absent)
    if (Array.isArray(o.prefixItems) && o.items !== undefined && o.items !== false) throw unsupported(path, '"items" after "prefixItems" (only items: false)');
    const tuple = Array.isArray(o.items) ? o.items : Array.isArray(o.prefixItems) ? o.prefixItems : null;
    if (tuple) {
      // every listed item is written (as llama.cpp); a schema that lets some be left out cannot say so here
      if ((min !== 0 && min !== tuple.length) || max < tuple.length) throw unsupported(path, `minItems/maxItems other than the tuple's length (${tuple.length})`);
      const items = tuple.map((t, i) => this.visit(t, `${name}-tuple-${i}`, `${path}/items/${i}`));
      return `"[" space ${items.join(' "," space ')} space "]"`;
    }
    const item = o.items === undefined ? this.primitive('value') : this.visit(o.items, `${name}-item`, `${path}/items`);
    return `"[" space ${repetition(item, min, max, '"," space')} space "]"`;
  }

  private string(o: Schema, name: string, path: string): string {
    if (o.pattern !== undefined) {
      if (typeof o.pattern !== 'string') throw grammarError(`JSON schema error at ${path}/pattern: must be a string.`);
      for (const k of ['format', 'minLength', 'maxLength']) if (k in o) throw unsupported(path, `"${k}" together with "pattern"`);
      return `"\\"" (${patternToGBNF(o.pattern, (sub) => this.add(`${name}-pattern`, sub), `${path}/pattern`)}) "\\""`;
    }
    if (o.format !== undefined) {
      if (typeof o.format !== 'string' || !FORMATS.has(o.format)) throw unsupported(path, `the string format ${JSON.stringify(o.format)} (supported: date, time, date-time, uuid)`);
      for (const k of ['minLength', 'maxLength']) if (k in o) throw unsupported(path, `"${k}" together with "format"`);
      return this.primitive(o.format.startsWith('uuid') ? 'uuid' : `${o.format}-string`);
    }
    const min = count(o, 'minLength', path) ?? 0;
    const max = count(o, 'maxLength', path) ?? Infinity;
    if (min === 0 && max === Infinity) return this.primitive('string');
    return `"\\"" ${repetition(this.primitive('char'), min, max)} "\\""`;
  }
}

function unsupported(path: string, what: string): Error {
  return grammarError(`JSON schema not supported at ${path}: ${what}.`);
}

/** The type a schema without "type" describes, judged by its keywords (as llama.cpp does). */
function inferType(o: Schema): string | undefined {
  if ('properties' in o || ('additionalProperties' in o && o.additionalProperties !== true)) return 'object';
  if ('items' in o || 'prefixItems' in o) return 'array';
  if ('pattern' in o || 'minLength' in o || 'maxLength' in o || 'format' in o) return 'string';
  if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].some((k) => k in o)) return 'number';
  return undefined;
}

function count(o: Schema, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw grammarError(`JSON schema error at ${path}/${key}: must be a whole number ≥ 0.`);
  return v as number;
}

/** item{min,max} with an optional separator between items, in GBNF. */
function repetition(item: string, min: number, max: number, sep = ''): string {
  if (max < min) throw grammarError(`JSON schema error: a maximum (${max}) below the minimum (${min}).`);
  if (max === 0) return '';
  if (!sep) {
    if (min === 0 && max === 1) return `${item}?`;
    if (max === Infinity) return min === 0 ? `${item}*` : min === 1 ? `${item}+` : `${item}{${min},}`;
    return `${item}{${min},${max}}`;
  }
  const rest = repetition(`(${sep} ${item})`, Math.max(0, min - 1), max === Infinity ? Infinity : max - 1);
  const seq = `${item} ${rest}`;
  return min === 0 ? `(${seq})?` : seq;
}

/** An integer in [minimum, maximum] (either may be open); null when unbounded. */
function integerRule(o: Schema, path: string): string | null {
  const bound = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw grammarError(`JSON schema error at ${path}/${k}: must be a number.`);
    return v;
  };
  let lo = -Infinity, hi = Infinity;
  const min = bound('minimum'), max = bound('maximum'), xmin = bound('exclusiveMinimum'), xmax = bound('exclusiveMaximum');
  if (min !== undefined) lo = Math.ceil(min);
  else if (xmin !== undefined) lo = Math.floor(xmin) + 1;
  if (max !== undefined) hi = Math.floor(max);
  else if (xmax !== undefined) hi = Math.ceil(xmax) - 1;
  if (lo === -Infinity && hi === Infinity) return null;
  if (lo > hi) throw grammarError(`JSON schema error at ${path}: no integer lies between the minimum and the maximum.`);
  for (const v of [lo, hi]) if (Number.isFinite(v) && !Number.isSafeInteger(v)) throw unsupported(path, 'integer bounds beyond ±2^53');
  const alts: string[] = [];
  if (lo < 0) {
    // negatives: "-" then the magnitude in [max(1, -hi), -lo]
    alts.push(...magnitudes(Math.max(1, -Math.min(hi, -1)), -lo).map((m) => `"-" ${m}`));
  }
  if (hi >= 0) alts.push(...magnitudes(Math.max(lo, 0), hi));
  return `(${alts.join(' | ')})`;
}

/** GBNF alternatives for the decimal numbers in [a, b] without leading zeros (b may be Infinity: up to 16 digits, as llama.cpp's integers). */
function magnitudes(a: number, b: number): string[] {
  const out: string[] = [];
  const la = String(a).length;
  const lb = b === Infinity ? Math.max(16, la) : String(b).length;
  for (let len = la; len <= lb; len++) {
    const lo = len === la ? String(a) : `1${'0'.repeat(len - 1)}`;
    const hi = b !== Infinity && len === lb ? String(b) : '9'.repeat(len);
    out.push(...sameLength(lo, hi));
  }
  return out;
}

/** Alternatives matching the digit strings of one length in [lo, hi]. */
function sameLength(lo: string, hi: string): string[] {
  if (lo.length === 0) return [''];
  const digit = (x: string, y: string) => (x === y ? `[${x}]` : `[${x}-${y}]`);
  const n = lo.length - 1;
  const any = (k: number) => (k === 0 ? '' : k === 1 ? ' [0-9]' : ` [0-9]{${k}}`);
  if (lo.slice(1) === '0'.repeat(n) && hi.slice(1) === '9'.repeat(n)) return [`${digit(lo[0], hi[0])}${any(n)}`];
  if (lo[0] === hi[0]) return sameLength(lo.slice(1), hi.slice(1)).map((r) => `[${lo[0]}] ${r}`.trim());
  const out = sameLength(lo.slice(1), '9'.repeat(n)).map((r) => `[${lo[0]}] ${r}`.trim());
  const d0 = Number(lo[0]) + 1, d1 = Number(hi[0]) - 1;
  if (d0 <= d1) out.push(`${digit(String(d0), String(d1))}${any(n)}`);
  out.push(...sameLength('0'.repeat(n), hi.slice(1)).map((r) => `[${hi[0]}] ${r}`.trim()));
  return out;
}

/** GBNF for a JSON schema; throws EngineError('GRAMMAR') naming what is malformed or unsupported. */
export function schemaToGBNF(schema: unknown): string {
  const c = new Converter(schema);
  const root = c.visit(schema, 'root', '#');
  if (root !== 'root') c.rules.set('root', root);
  return [...c.rules].map(([k, v]) => `${k} ::= ${v}`).join('\n') + '\n';
}
