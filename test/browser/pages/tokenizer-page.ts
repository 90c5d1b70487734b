// Page side of tokenizer-load.test.ts: the big vocabularies loaded in Chromium as the app loads them
// (GGUF header over HTTP range requests; tokenizer.json fetched and parsed), timed, then used.
import { urlSource } from '../../../src/formats/url-source.ts';
import { openGGUF } from '../../../src/formats/gguf/reader.ts';
import { tokenizerFromGGUF } from '../../../src/tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../../../src/tokenizer/from-hf-json.ts';
import { createStreamDecoder, type Tokenizer } from '../../../src/tokenizer/tokenizer.ts';

interface Loaded { times: Record<string, number>; ids: number[][]; special: number[][]; streamed: string[] }

function use(tok: Tokenizer, texts: string[], times: Record<string, number>): Omit<Loaded, 'times'> {
  const t = performance.now();
  const ids = texts.map((s) => tok.encode(s));
  times.encode = performance.now() - t;
  const special = texts.map((s) => tok.encode(s, { parseSpecial: true }));
  const streamed = ids.map((list) => {
    const dec = createStreamDecoder(tok, { stripLeadingSpace: tok.addSpacePrefix });
    return list.map((id) => dec.push(id)).join('') + dec.flush();
  });
  return { ids, special, streamed };
}

export async function fromGGUF(url: string, texts: string[]): Promise<Loaded> {
  const times: Record<string, number> = {};
  const src = await urlSource(url);
  let reading = 0;
  const timedSrc = { ...src, name: src.name, size: src.size, read: async (o: number, n: number) => {
    const r = performance.now();
    try { return await src.read(o, n); } finally { reading += performance.now() - r; }
  } };
  let t = performance.now();
  const file = await openGGUF(timedSrc);
  times.header = performance.now() - t;
  times.headerReads = reading;
  t = performance.now();
  const tok = tokenizerFromGGUF(file.metadata);
  times.build = performance.now() - t;
  await file.close();
  return { times, ...use(tok, texts, times) };
}

export async function fromHFJson(jsonUrl: string, configUrl: string, texts: string[]): Promise<Loaded> {
  const times: Record<string, number> = {};
  let t = performance.now();
  const [text, config] = await Promise.all([fetch(jsonUrl).then((r) => r.text()), fetch(configUrl).then((r) => r.json())]);
  times.fetch = performance.now() - t;
  t = performance.now();
  const json: unknown = JSON.parse(text);
  times.parse = performance.now() - t;
  t = performance.now();
  const tok = tokenizerFromHFJson(json, config);
  times.build = performance.now() - t;
  return { times, ...use(tok, texts, times) };
}
