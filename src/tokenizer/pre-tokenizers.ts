// Pre-tokenizers for BPE, chosen by `tokenizer.ggml.pre`, behaving like llama.cpp's
// unicode_regex_split: each step re-splits every piece made by the previous steps, and the text
// between matches is kept as pieces too. llama.cpp runs some patterns through hand-written
// splitters (GPT-2; Llama 3 / Qwen2 / Qwen3.5, which differ only in digit runs and combining marks;
// newline runs) and the rest through std::regex after folding non-ASCII whitespace to \v; we
// mirror both, so `\s` below is the ASCII class `[\t-\r ]` applied to that folded text.
import { CPT_ACCENT, CPT_LETTER, CPT_NUMBER, CPT_WHITESPACE, codepointsToString, cpFlags, toCodepoints } from './unicode.ts';

/** `llama3`: digits = longest digit run per piece (3 for Llama 3, 1 for Qwen2); marks: letter runs take \p{M} too (Qwen3.5). */
export type SplitStep = { kind: 'gpt2' } | { kind: 'llama3'; digits: number; marks: boolean } | { kind: 'newlines' }
  | { kind: 'regex'; re: RegExp };

export interface PreTokenizerSpec {
  readonly steps: readonly SplitStep[];
  /** llama.cpp's ignore_merges: a piece that is itself a token is taken whole */
  readonly ignoreMerges?: boolean;
  /** default of add_bos_token when the GGUF does not say */
  readonly addBos?: boolean;
  /** the model has no BOS (llama.cpp clears it for GLM-4) */
  readonly noBos?: boolean;
  /**
   * SentencePiece-style BPE (Gemma 4 and Gemma 3 from tokenizer.json): spaces become U+2581, symbols
   * are raw UTF-8 (no GPT-2 byte map), unmatched bytes fall back to <0xNN>, and llama.cpp forces add_bos.
   */
  readonly spmStyle?: boolean;
}

const WS = '\\t-\\r ';
const S = `[${WS}]`;
const rx = (src: string): SplitStep => ({ kind: 'regex', re: new RegExp(src, 'gu') });

const GPT2: SplitStep = { kind: 'gpt2' };
const LLAMA3: SplitStep = { kind: 'llama3', digits: 3, marks: false };
const QWEN2: SplitStep = { kind: 'llama3', digits: 1, marks: false };
const QWEN35: SplitStep = { kind: 'llama3', digits: 1, marks: true };
const CJK = '[\\u4E00-\\u9FA5\\u0800-\\u4E00\\uAC00-\\uD7FF]+';
// DeepSeek LLM's cased-letter class, exactly as listed in its tokenizer (an older \p{LC}).
const DEEPSEEK_LETTERS = 'A-Za-z\\u00B5\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u01BA\\u01BC-\\u01BF\\u01C4-\\u0293'
  + '\\u0295-\\u02AF\\u0370-\\u0373\\u0376\\u0377\\u037B-\\u037D\\u037F\\u0386\\u0388-\\u038A\\u038C\\u038E-\\u03A1'
  + '\\u03A3-\\u03F5\\u03F7-\\u0481\\u048A-\\u052F\\u0531-\\u0556\\u10A0-\\u10C5\\u13A0-\\u13F5\\u13F8-\\u13FD'
  + '\\u1C90-\\u1CBA\\u1CBD-\\u1CBF\\u1D00-\\u1D2B\\u1D6B-\\u1D77\\u1D79-\\u1D9A\\u1E00-\\u1F15\\u1F18-\\u1F1D'
  + '\\u1F20-\\u1F45\\u1F48-\\u1F4D\\u1F50-\\u1F57\\u1F59\\u1F5B\\u1F5D\\u1F5F-\\u1F7D\\u1F80-\\u1FB4\\u1FB6-\\u1FBC'
  + '\\u1FBE\\u1FC2-\\u1FC4\\u1FC6-\\u1FCC\\u1FD0-\\u1FD3\\u1FD6-\\u1FDB\\u1FE0-\\u1FEC\\u1FF2-\\u1FF4\\u1FF6-\\u1FFC'
  + '\\u2102\\u2107\\u210A-\\u2113\\u2115\\u2119-\\u211D\\u2124\\u2126\\u2128\\u212A-\\u212D\\u212F-\\u2134\\u2139'
  + '\\u213C-\\u213F\\u2145-\\u2149\\u214E\\u2183\\u2184\\u2C00-\\u2C7B\\u2C7E-\\u2CE4\\u2CEB-\\u2CEE\\u2CF2\\u2CF3'
  + '\\uA640-\\uA66D\\uA680-\\uA69B\\uA722-\\uA76F\\uA771-\\uA787\\uA78B-\\uA78E\\uAB70-\\uABBF\\uFB00-\\uFB06'
  + '\\uFB13-\\uFB17\\uFF21-\\uFF3A\\uFF41-\\uFF5A\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}'
  + '\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}\\u{1E900}-\\u{1E943}';

const DEFAULT_SPEC: PreTokenizerSpec = {
  steps: [rx('[\\p{P}$+<=>^~|]+'), GPT2, rx('\\p{N}+'), rx('[0-9][0-9][0-9]')],
};
const GPT2_SPEC: PreTokenizerSpec = { steps: [GPT2] };
const LLAMA3_SPEC: PreTokenizerSpec = { steps: [LLAMA3], ignoreMerges: true, addBos: true };
const QWEN2_SPEC: PreTokenizerSpec = { steps: [QWEN2] };
const STARCODER_SPEC: PreTokenizerSpec = { steps: [rx('\\p{N}'), GPT2] };
// BPE over whole lines: only newline runs are split off (a merge never spans a newline).
const GEMMA4_SPEC: PreTokenizerSpec = { steps: [{ kind: 'newlines' }], spmStyle: true, addBos: true };

const SPECS = new Map<string, PreTokenizerSpec>([
  ['default', DEFAULT_SPEC],
  ['falcon', { steps: [rx('[\\p{P}$+<=>^~|`]+'), GPT2, rx('[0-9][0-9][0-9]')] }],
  ['deepseek-llm', {
    steps: [rx('[\\r\\n]'), rx(`${S}?[${DEEPSEEK_LETTERS}]+`),
      rx(`${S}?[!-/:-~\\uFF01-\\uFF0F\\uFF1A-\\uFF5E\\u2018-\\u201F\\u3000-\\u3002]+`), rx(`${S}+$`), rx(CJK), rx('\\p{N}+')],
  }],
  ['deepseek-coder', { steps: [rx('[\\r\\n]'), rx(`${S}?\\p{L}+`), rx(`${S}?\\p{P}+`), rx(CJK), rx('\\p{N}')] }],
  ['dbrx', { steps: [LLAMA3] }],
  ['smaug-bpe', { steps: [LLAMA3] }],
  ['chatglm-bpe', { steps: [LLAMA3], noBos: true }],
  ['glm4', { steps: [LLAMA3], noBos: true }],
  ['qwen35', { steps: [QWEN35] }],
  // Gemma 3 converted from tokenizer.json gets this name from llama.cpp's tokenizer hash
  ['gemma4', GEMMA4_SPEC],
  ['granite-embed-multi-311m', GEMMA4_SPEC],
]);
for (const n of ['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2', 'jina-v5-nano']) {
  SPECS.set(n, LLAMA3_SPEC);
}
for (const n of ['gpt-2', 'phi-2', 'jina-es', 'jina-de', 'gigachat', 'jina-v2-es', 'jina-v2-de', 'a.x-4.0', 'mellum',
  'modern-bert', 'exaone4', 'jina-v1-en', 'jina-v2-code', 'roberta-bpe', 'mpt', 'olmo', 'jais', 'trillion', 'granite-docling']) {
  SPECS.set(n, GPT2_SPEC);
}
for (const n of ['qwen2', 'deepseek-r1-qwen', 'megrez', 'stablelm2', 'kormo', 'f2llmv2', 'hunyuan', 'solar-open', 'grok-2']) {
  SPECS.set(n, QWEN2_SPEC);
}
for (const n of ['starcoder', 'refact', 'command-r', 'smollm', 'codeshell', 'exaone', 'minerva-7b']) SPECS.set(n, STARCODER_SPEC);

/** The pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre` (missing → default), or undefined if unknown. */
export function preTokenizerFor(pre: string | undefined): PreTokenizerSpec | undefined {
  return SPECS.get(pre || 'default');
}

/** Splits `text` into words; each word is a substring of `text` (not yet byte-encoded). */
export function preTokenize(text: string, steps: readonly SplitStep[]): string[] {
  const cpts = toCodepoints(text);
  let offsets = [cpts.length];
  for (const step of steps) {
    const out: number[] = [];
    let start = 0;
    for (const len of offsets) {
      if (step.kind === 'gpt2') splitGpt2(cpts, start, start + len, out);
      else if (step.kind === 'llama3') splitLlama3(cpts, start, start + len, step.digits, step.marks, out);
      else if (step.kind === 'newlines') splitNewlines(cpts, start, start + len, out);
      else splitRegex(cpts, start, start + len, step.re, out);
      start += len;
    }
    offsets = out;
  }
  const words: string[] = [];
  let start = 0;
  for (const len of offsets) {
    words.push(codepointsToString(cpts, start, start + len));
    start += len;
  }
  return words;
}

/** Shared cursor over one piece [ini, end): flags/codepoints read as 0/-1 outside it. */
function cursor(cpts: Uint32Array, ini: number, end: number, out: number[]) {
  let prev = ini;
  return {
    cpt: (p: number) => (p >= ini && p < end ? cpts[p] : -1),
    flags: (p: number) => (p >= ini && p < end ? cpFlags(cpts[p]) : 0),
    /** closes the current word at `e`; returns its length */
    add(e: number): number {
      const len = e - prev;
      if (len > 0) out.push(len);
      prev = e;
      return len;
    },
  };
}

const WORDISH = CPT_WHITESPACE | CPT_LETTER | CPT_NUMBER;
const isCR = (c: number) => c === 0x0d || c === 0x0a;
const lowerAscii = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

/** 's 't 'm 'd 're 've 'll at pos: returns the match length or 0. */
function contraction(c: ReturnType<typeof cursor>, pos: number, end: number, fold: boolean): number {
  if (c.cpt(pos) !== 0x27 || pos + 1 >= end) return 0;
  const f = fold ? lowerAscii : (x: number) => x;
  const n1 = f(c.cpt(pos + 1));
  if (n1 === 0x73 || n1 === 0x74 || n1 === 0x6d || n1 === 0x64) return 2;
  if (pos + 2 >= end) return 0;
  const n2 = f(c.cpt(pos + 2));
  if ((n1 === 0x72 && n2 === 0x65) || (n1 === 0x76 && n2 === 0x65) || (n1 === 0x6c && n2 === 0x6c)) return 3;
  return 0;
}

/** Trailing whitespace rules shared by both splitters; returns the new position. */
function whitespaceRun(c: ReturnType<typeof cursor>, pos: number, newlines: boolean): number {
  let n = 0;
  let lastNl = 0;
  while (c.flags(pos + n) & CPT_WHITESPACE) {
    if (newlines && isCR(c.cpt(pos + n))) lastNl = pos + n + 1;
    n++;
  }
  if (lastNl > 0) pos = lastNl; // \s*[\r\n]+
  else if (n > 1 && c.cpt(pos + n) !== -1) pos += n - 1; // \s+(?!\S)
  else if (n > 0) pos += n; // \s+
  else pos += 1; // no match: one codepoint alone
  c.add(pos);
  return pos;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
function splitGpt2(cpts: Uint32Array, ini: number, end: number, out: number[]): void {
  const c = cursor(cpts, ini, end, out);
  for (let pos = ini; pos < end;) {
    const k = contraction(c, pos, end, false);
    if (k) { pos += c.add(pos + k); continue; }
    const space = c.cpt(pos) === 0x20 ? 1 : 0;
    let f2 = space ? c.flags(pos + 1) : c.flags(pos);
    const run = f2 & CPT_LETTER ? CPT_LETTER : f2 & CPT_NUMBER ? CPT_NUMBER : 0;
    if (run) {
      pos += space;
      while (f2 & run) f2 = c.flags(++pos);
      c.add(pos);
      continue;
    }
    if (!(f2 & WORDISH) && f2) {
      pos += space;
      while (!(f2 & WORDISH) && f2) f2 = c.flags(++pos);
      c.add(pos);
      continue;
    }
    pos = whitespaceRun(c, pos, false);
  }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// with \p{N}{1,digits}, and [\p{L}\p{M}] for \p{L} when `marks` (Qwen3.5).
function splitLlama3(cpts: Uint32Array, ini: number, end: number, digits: number, marks: boolean, out: number[]): void {
  const c = cursor(cpts, ini, end, out);
  const run = marks ? CPT_LETTER | CPT_ACCENT : CPT_LETTER;
  const wordish = WORDISH | (marks ? CPT_ACCENT : 0);
  for (let pos = ini; pos < end;) {
    const k = contraction(c, pos, end, true);
    if (k) { pos += c.add(pos + k); continue; }
    const cpt = c.cpt(pos);
    const flags = c.flags(pos);
    if (!isCR(cpt) && !(flags & CPT_NUMBER) && ((flags & run) || (c.flags(pos + 1) & run))) {
      pos++;
      while (c.flags(pos) & run) pos++;
      c.add(pos);
      continue;
    }
    if (flags & CPT_NUMBER) {
      let start = pos;
      while (c.flags(pos) & CPT_NUMBER) {
        if (++pos - start >= digits) { c.add(pos); start = pos; }
      }
      c.add(pos);
      continue;
    }
    let f2 = cpt === 0x20 ? c.flags(pos + 1) : flags;
    if (!(f2 & wordish) && flags) {
      pos += cpt === 0x20 ? 1 : 0;
      while (!(f2 & wordish) && f2) f2 = c.flags(++pos);
      while (isCR(c.cpt(pos))) pos++;
      c.add(pos);
      continue;
    }
    pos = whitespaceRun(c, pos, true);
  }
}

// [^\n]+|[\n]+
function splitNewlines(cpts: Uint32Array, ini: number, end: number, out: number[]): void {
  for (let pos = ini; pos < end;) {
    const nl = cpts[pos] === 0x0a, start = pos;
    while (pos < end && (cpts[pos] === 0x0a) === nl) pos++;
    out.push(pos - start);
  }
}

/** std::regex path: the piece as text with non-ASCII whitespace folded to \v, matched left to right. */
function splitRegex(cpts: Uint32Array, ini: number, end: number, re: RegExp, out: number[]): void {
  const chars: string[] = [];
  for (let i = ini; i < end; i++) {
    const cp = cpts[i];
    chars.push(cp > 0x7f && cpFlags(cp) & CPT_WHITESPACE ? '\v' : String.fromCodePoint(cp));
  }
  const text = chars.join('');
  // UTF-16 index -> codepoint index within the piece
  const cpIndex = new Uint32Array(text.length + 1);
  for (let u = 0, k = 0; k < chars.length; k++) {
    for (let j = 0; j < chars[k].length; j++) cpIndex[u + j] = k;
    u += chars[k].length;
    cpIndex[u] = k + 1;
  }
  let prev = 0;
  for (const m of text.matchAll(re)) {
    if (m[0].length === 0) continue;
    const s = cpIndex[m.index], e = cpIndex[m.index + m[0].length];
    if (s > prev) out.push(s - prev);
    out.push(e - s);
    prev = e;
  }
  if (prev < chars.length) out.push(chars.length - prev);
}
