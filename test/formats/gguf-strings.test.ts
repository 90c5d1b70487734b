// The header parser decodes short strings in JS (a TextDecoder call per token is slow in browsers):
// it must give exactly TextDecoder's result for every byte sequence, ill-formed ones included.
import { describe, expect, it } from 'vitest';
import { parseHeader } from '../../src/formats/gguf/header-parser.ts';

/** A GGUF v3 header with one metadata key holding `strings` as a string array. */
function headerWith(strings: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => { for (let i = 0; i < 4; i++) parts.push((v >>> (8 * i)) & 0xff); };
  const u64 = (v: number) => { u32(v); u32(0); };
  const bytes = (b: ArrayLike<number>) => { u64(b.length); for (let i = 0; i < b.length; i++) parts.push(b[i]); };
  u32(0x46554747); u32(3); u64(0); u64(1);
  bytes(new TextEncoder().encode('test.strings'));
  u32(9); u32(8); u64(strings.length);
  for (const s of strings) bytes(s);
  return Uint8Array.from(parts);
}

/**
 * Strings of well-formed code points from every UTF-8 length, a third of them with one suspicious
 * sequence mixed in (overlong, surrogate, past U+10FFFF, cut off, stray continuation).
 */
function randomBytes(n: number, seed: number): Uint8Array[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const enc = new TextEncoder();
  const ranges: [number, number][] = [[0, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff]];
  const bad = [[0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], [0x80],
    [0xbf, 0x41], [0xe2, 0x96], [0xf0, 0x9f, 0xa6], [0xc2], [0xe2, 0x41, 0x81], [0xef, 0xbb, 0xbf]];
  return Array.from({ length: n }, () => {
    const out: number[] = [];
    const pieces = Math.floor(rnd() * 20);
    const badAt = rnd() < 0.33 ? Math.floor(rnd() * (pieces + 1)) : -1;
    for (let k = 0; k <= pieces; k++) {
      if (k === badAt) out.push(...pick(bad));
      const [lo, hi] = pick(ranges);
      if (k < pieces) out.push(...enc.encode(String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)))));
    }
    return Uint8Array.from(out);
  });
}

describe('GGUF header strings', () => {
  it('never read a cut-off sequence on into the next string\'s length bytes', () => {
    // the second string is 0x81 bytes long, so the byte after "\xE2\x96" looks like a continuation
    const strings = [Uint8Array.of(0xe2, 0x96), new TextEncoder().encode('a'.repeat(0x81))];
    const buf = headerWith(strings);
    expect(parseHeader(buf, buf.length, 'strings.gguf').metadata.get('test.strings')).toEqual(['\uFFFD', 'a'.repeat(0x81)]);
  });

  it('decode like TextDecoder (BOM kept, ill-formed bytes replaced) for 20000 random byte strings', () => {
    const strings = randomBytes(20_000, 5);
    const buf = headerWith(strings);
    const got = parseHeader(buf, buf.length, 'strings.gguf').metadata.get('test.strings') as string[];
    const dec = new TextDecoder('utf-8', { ignoreBOM: true });
    const want = strings.map((b) => dec.decode(b)); const k = strings.findIndex((b) => b.some((x, j) => x === 0xf4 && b[j + 1] >= 0x90 && b[j + 1] <= 0xbf && (b[j + 2] & 0xc0) === 0x80 && (b[j + 3] & 0xc0) === 0x80)); console.log('DBG', k, k >= 0 ? Array.from(strings[k], (x) => x.toString(16)).join(' ') : '', JSON.stringify(got[k]), JSON.stringify(want[k]));
    expect(got).toEqual(want);
  });

  it('decode real text: every plane, a BOM, and ▁-prefixed pieces', () => {
    const texts = ['▁the', '\uFEFFbom', 'é', '日本', '🦙', '𓀀x', '\u0000', 'a'.repeat(64), '▁'.repeat(30), 'ü'.repeat(40)];
    const buf = headerWith(texts.map((t) => new TextEncoder().encode(t)));
    expect(parseHeader(buf, buf.length, 'strings.gguf').metadata.get('test.strings')).toEqual(texts);
  });
});
