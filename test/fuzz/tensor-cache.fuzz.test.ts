// MLC tensor-cache.json as the fixture writer makes it (test/fixtures/mlc-writer.ts, from
// TinyStories-656K), mutated as JSON and as text, read the way an MLC folder is opened.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { parseTensorCache } from '../../src/formats/mlc/tensor-cache.ts';
import { readJsonFile } from '../../src/formats/safetensors/set.ts';
import { fixture } from '../fixtures.ts';
import { writeMLCFolder } from '../fixtures/mlc-writer.ts';
import { mutatedJsonText } from './mutate.ts';
import { fuzz } from './runner.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fuzz-mlc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seeds: unknown[] = [];
beforeAll(async () => {
  for (const scheme of ['q4f16_1', 'q0f32'] as const) {
    const dirs = await writeMLCFolder(fixture('models', 'TinyStories-656K'), scheme, path.join(tmp, scheme), 1 << 20);
    seeds.push(JSON.parse(readFileSync(path.join(dirs.mlc, 'tensor-cache.json'), 'utf8')));
  }
});

it('MLC tensor-cache.json parser', { timeout: 1_800_000 }, async () => {
  const r = await fuzz({
    name: 'mlc-tensor-cache',
    input: mutatedJsonText(seeds),
    size: (t) => t.length * 2,
    capBytes: 32 * 2 ** 20,
    maxMs: 2000,
    async run(text) {
      const bytes = new TextEncoder().encode(text);
      const dir = { name: 'fuzz-mlc', names: ['tensor-cache.json'], open: async () => bytesSource(bytes, 'tensor-cache.json') };
      parseTensorCache(await readJsonFile(dir, 'tensor-cache.json'), 'fuzz-mlc', 'tensor-cache.json');
    },
  });
  expect(r.runs).toBeGreaterThan(0);
});
