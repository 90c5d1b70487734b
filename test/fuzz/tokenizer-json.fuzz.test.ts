// tokenizer.json + tokenizer_config.json of the HF fixtures (a SentencePiece-style BPE with byte
// fallback, and TinyStories' byte-level BPE), mutated, read the way a folder is opened; a tokenizer
// that loads must then encode and decode without crashing.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { readJsonFile } from '../../src/formats/safetensors/set.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import { fixture } from '../fixtures.ts';
import { mutatedJsonText } from './mutate.ts';
import { fuzz } from './runner.ts';

const dirs = [fixture('arch', 'hf', 'dev-hf-mistral'), fixture('models', 'TinyStories-656K')];
const load = (d: string, f: string) => JSON.parse(readFileSync(`${d}/${f}`, 'utf8'));
const tokenizers = dirs.map((d) => load(d, 'tokenizer.json'));
const configs = dirs.map((d) => load(d, 'tokenizer_config.json'));

it('tokenizer.json reader', { timeout: 1_800_000 }, async () => {
  const r = await fuzz({
    name: 'tokenizer-json',
    input: fc.tuple(mutatedJsonText(tokenizers), fc.oneof(mutatedJsonText(configs), fc.constant(JSON.stringify(configs[0])))),
    size: ([a, b]) => 2 * (a.length + b.length),
    capBytes: 64 * 2 ** 20,
    maxMs: 3000,
    async run([tok, cfg]) {
      const files: Record<string, Uint8Array> = { 'tokenizer.json': new TextEncoder().encode(tok), 'tokenizer_config.json': new TextEncoder().encode(cfg) };
      const dir = { name: 'fuzz-hf', names: Object.keys(files), open: async (n: string) => bytesSource(files[n], n) };
      const t = tokenizerFromHFJson(await readJsonFile(dir, 'tokenizer.json'), await readJsonFile(dir, 'tokenizer_config.json'));
      t.decode(t.encode('Hello world, <s> 123 ünïcödé 🙂\n\t  x', { parseSpecial: true }));
    },
  });
  expect(r.runs).toBeGreaterThan(0);
});
