// GGUF headers of three fixtures (SPM and a 50k-token GPT-2 vocabulary, several block types),
// mutated: the reader must give a typed error or a consistent file, never crash or allocate what a
// count field claims.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { fixture } from '../fixtures.ts';
import { mutatedBytes } from './mutate.ts';
import { fuzz } from './runner.ts';

// whole small files, so that unmutated parts read as a valid model; the GPT-2 one cut after its
// header (its tensors then lie beyond the end: a typed error as well)
const seeds = [
  new Uint8Array(readFileSync(fixture('models', 'stories260K.gguf'))),
  new Uint8Array(readFileSync(fixture('quant', 'dev-llama.Q2_K.gguf'))),
  new Uint8Array(readFileSync(fixture('quant', 'dev-gpt2vocab.Q4_0.gguf')).subarray(0, 1536 * 1024)),
];

it('GGUF header parser', { timeout: 1_800_000 }, async () => {
  const r = await fuzz({
    name: 'gguf-header',
    input: mutatedBytes(seeds, () => 64 * 1024), // the headers are within the first 64 KiB (but GPT-2's)
    size: (b) => b.length,
    capBytes: 256 * 2 ** 20,
    maxMs: 2000,
    async run(b) {
      const f = await openGGUF(bytesSource(b, 'fuzz.gguf'));
      for (const t of f.tensors.slice(0, 4)) await f.readTensor(t);
    },
  });
  expect(r.runs).toBeGreaterThan(0);
});
