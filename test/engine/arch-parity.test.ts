// Every architecture fixture (../shared/fixtures/arch: llama.cpp's converter and quantizer on
// random-weight models of each family, real vocabularies) against llama.cpp's own perplexity, run
// as a user runs it: `cli perplexity` in a child process on the WASM backend. `@long` keys use
// long.txt, longer than Gemma's 64-token window: they match only if the window is applied.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { archCases } from './arch-cases.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('cli perplexity on WASM matches llama.cpp on every architecture fixture', () => {
  it.each(archCases())('%s: |Δ ln ppl| ≤ 0.02', async (key, model, text, ref) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'perplexity', '--model', model,
      '--file', text, '--json', '--threads', '2'], { cwd: root, timeout: 300_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { ppl: number; nTokens: number };
    const delta = Math.abs(Math.log(r.ppl) - Math.log(ref.ppl));
    console.log(`${key}: ppl ${r.ppl.toFixed(1)} vs llama.cpp ${ref.ppl.toFixed(1)} (Δln ${delta.toFixed(4)}, ${r.nTokens} tokens)`);
    expect(r.nTokens).toBe(ref.nTokens);
    expect(delta).toBeLessThanOrEqual(0.02);
  });
});
