// Unicode helpers shared by the tokenizers: codepoint category flags as llama.cpp sees them
// (its tables come from Python's `regex` \p{..} classes and \s = White_Space), the GPT-2
// byte<->unicode map, and UTF-8 conversion.

export const CPT_NUMBER = 1;
export const CPT_LETTER = 2;
export const CPT_WHITESPACE = 4;
export const CPT_PUNCT = 8;
export const CPT_SYMBOL = 16;
export const CPT_ACCENT = 32;
/** set for every valid codepoint; 0 flags means "out of range" in the splitters */
export const CPT_DEFINED = 64;
const COMPUTED = 0x8000;

const CLASSES: readonly [RegExp, number][] = [
  [/\p{N}/u, CPT_NUMBER], [/\p{L}/u, CPT_LETTER], [/\p{White_Space}/u, CPT_WHITESPACE],
  [/\p{P}/u, CPT_PUNCT], [/\p{S}/u, CPT_SYMBOL], [/\p{M}/u, CPT_ACCENT],
];

// Filled lazily: most texts touch a few hundred distinct codepoints, not 1.1 million.
let flagCache: Uint16Array | null = null;

export function cpFlags(cp: number): number {
  if (cp < 0 || cp > 0x10ffff) return 0;
  flagCache ??= new Uint16Array(0x110000);
  const f = flagCache[cp];
  if (f & COMPUTED) return f & ~COMPUTED;
  const s = String.fromCodePoint(cp);
  let flags = CPT_DEFINED;
  for (const [re, bit] of CLASSES) if (re.test(s)) flags |= bit;
  flagCache[cp] = flags | COMPUTED;
  return flags;
}

/** Codepoints of a JS string; lone surrogates become U+FFFD as they would after UTF-8 encoding. */
export function toCodepoints(text: string): Uint32Array {
  const out = new Uint32Array(text.length);
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out[n++] = cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
  }
  return out.subarray(0, n);
}

export function codepointsToString(cps: ArrayLike<number>, start = 0, end = cps.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCodePoint(cps[i]);
  return s;
}

const encoder = new TextEncoder();
export const utf8Encode = (s: string): Uint8Array => encoder.encode(s);

let byteToUni: string[] | null = null;
let uniToByte: Map<string, number> | null = null;

/** GPT-2's reversible map from each byte to a printable unicode character. */
export function byteToUnicode(): readonly string[] {
  if (byteToUni) return byteToUni;
  const map: string[] = new Array(256);
  const direct = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCharCode(direct(b) ? b : 256 + n++);
  byteToUni = map;
  return map;
}

export function unicodeToByte(): ReadonlyMap<string, number> {
  if (uniToByte) return uniToByte;
  uniToByte = new Map(byteToUnicode().map((c, b) => [c, b]));
  return uniToByte;
}

/** Maps the UTF-8 bytes of `s` through the GPT-2 byte map. */
export function byteEncode(s: string): string {
  const map = byteToUnicode();
  let out = '';
  for (const b of utf8Encode(s)) out += map[b];
  return out;
}

/** ASCII whitespace as C's isspace() sees it (used for lstrip/rstrip of special tokens). */
export const isCSpace = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');
