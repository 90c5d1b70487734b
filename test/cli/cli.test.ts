// The CLI contract, run as a user runs it (a child process), on the fixture models.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { cli, cliEnv } from './run-cli.ts';
import { llamaGreedyIds } from '../llama-greedy.ts';

const root = path.resolve(import.meta.dirname, '../..');
const stories = fixture('models', 'stories260K.gguf');

const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

const golden = /> (Once upon a time, there was a little girl named Lily\..*?so she)\n/s
  .exec(readFileSync(fixture('models', 'README.md'), 'utf8'))![1].replace(/\\n/g, '\n');

describe('cli', () => {
  it('generate --prompt "" greedy 200 tokens prints exactly the golden text', async () => {
    const r = await cli('generate', '--model', stories, '--prompt', '', '--max-tokens', '200', '--temperature', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${golden}\n`);
    expect(r.stderr).toMatch(/decode [\d.]+ tok\/s/);
  });

  it('generate --json ends with the contract object', async () => {
    const r = await cli('generate', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '8', '--temperature', '0', '--json', '--threads', '2');
    expect(r.code).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.promptIds).toEqual([1, 403, 407, 261, 378]);
    expect(j.ids).toEqual([432, 383, 286, 261, 376, 298, 315, 421]); // llama.cpp's greedy ids
    expect(j.text).toBe(', there was a little girl'); // 'girl' is three tokens in this 512-token vocab
    expect(j.prefillTokensPerSec).toBeGreaterThan(0);
    expect(j.decodeTokensPerSec).toBeGreaterThan(0);
  });

  it('same seed gives the same sampled text', async () => {
    const args = ['generate', '--model', stories, '--prompt', 'Lily', '--max-tokens', '30', '--temperature', '1', '--seed', '42', '--json'];
    const [a, b] = [await cli(...args), await cli(...args)];
    expect(lastJson(a.stdout).ids).toEqual(lastJson(b.stdout).ids);
  });

  it('tokenize and perplexity --json', async () => {
    const t = await cli('tokenize', '--model', stories, '--text', 'Once upon a time', '--json');
    expect(lastJson(t.stdout)).toEqual({ ids: [1, 403, 407, 261, 378] });
    const nb = await cli('tokenize', '--model', stories, '--text', 'Once upon a time', '--json', '--no-bos');
    expect(lastJson(nb.stdout)).toEqual({ ids: [403, 407, 261, 378] });
    const p = await cli('perplexity', '--model', stories, '--file', fixture('quant', 'sample.txt'), '--json');
    const j = lastJson(p.stdout);
    expect(j.nTokens).toBe(217);
    expect(Math.abs(Math.log(j.ppl / 5.25431713574819))).toBeLessThan(0.005);
  });

  it('bench --json reports the contract fields', async () => {
    const r = await cli('bench', '--model', fixture('quant', 'dev-llama.Q4_K_M.gguf'), '--prompt-tokens', '32', '--gen-tokens', '8', '--threads', '2', '--json');
    expect(r.code).toBe(0);
    const j = lastJson(r.stdout);
    expect(j).toMatchObject({ backend: 'wasm', threads: 2 });
    for (const k of ['prefillTokensPerSec', 'decodeTokensPerSec', 'peakMemoryBytes']) expect(j[k]).toBeGreaterThan(0);
  });

  it('bench --json-schema decodes under the constraint and reports the mask time', async () => {
    const schema = path.join(root, 'bench/schemas/nested.json');
    const r = await cli('bench', '--model', stories, '--prompt-tokens', '8', '--gen-tokens', '24', '--json-schema', schema, '--json');
    expect(r.code).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.decodeTokensPerSec).toBeGreaterThan(0);
    expect(j.maskMsPerToken).toBeGreaterThan(0);
    expect(j.maskWalksPerToken).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(j.documents)).toBe(true);
  });

  it('bad input: clear messages and non-zero exit, no stack traces', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-'));
    const html = path.join(dir, 'model.gguf');
    writeFileSync(html, '<!DOCTYPE html><html><body>404</body></html>');
    const cases: [string[], number, RegExp][] = [
      [['generate', '--model', html, '--prompt', 'x'], 1, /not a GGUF model file/],
      [['generate', '--model', path.join(dir, 'missing.gguf'), '--prompt', 'x'], 1, /Cannot open/],
      [['generate', '--model', stories], 2, /--prompt/],
      [['generate', '--model', stories, '--prompt', 'x', '--temperature', 'hot'], 2, /--temperature needs a number/],
      [['frobnicate', '--model', stories], 2, /Unknown command/],
      [['generate', '--model', stories, '--prompt', 'x', '--kv-type', 'q4_0'], 2, /--kv-type must be one of f32, f16, q8_0/],
      // stories260K's heads have 8 values: llama.cpp refuses a q8_0 cache there too
      [['generate', '--model', stories, '--prompt', 'x', '--kv-type', 'q8_0'], 1, /q8_0 KV cache needs heads of whole 32-value blocks/],
      [['tokenize', '--model', fixture('tokenizers', 'llama.cpp', 'ggml-vocab-gpt-neox.gguf'), '--text', 'x'], 0, /\d/],
      [['generate', '--model', fixture('tokenizers', 'llama.cpp', 'ggml-vocab-bert-bge.gguf'), '--prompt', 'x'], 1, /architecture is 'bert'/],
    ];
    for (const [args, code, re] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(code ? r.stderr : r.stdout, args.join(' ')).toMatch(re);
      expect(r.stderr).not.toMatch(/internal error|    at /);
    }
  });
});

describe('cli --backend webgpu in Node (Dawn)', () => {
  it('greedy ids and text are llama.cpp\'s, and the WASM backend\'s', async () => {
    const args = ['generate', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0', '--json'];
    const gpu = await cli(...args, '--backend', 'webgpu');
    expect(gpu.code, gpu.stderr).toBe(0);
    const j = lastJson(gpu.stdout);
    const ref = await llamaGreedyIds(stories, j.promptIds, 40);
    expect(j.ids).toEqual(ref.ids);
    expect(j.text).toBe(lastJson((await cli(...args, '--backend', 'wasm')).stdout).text);
  });

  it('without a Vulkan driver: a BACKEND error that says which variables to set', async () => {
    // a user's own VK_ICD_FILENAMES is kept: here it names no driver
    const r = await cliEnv({ VK_ICD_FILENAMES: '/nonexistent/icd.json' }, 'generate', '--model', stories, '--prompt', 'x', '--backend', 'webgpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Dawn found no GPU adapter.*VK_ICD_FILENAMES=.*--backend wasm/m);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe('cli Ctrl-C', () => {
  it('SIGINT during a 2,000-token prompt stops between batches and still prints the result', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'generate', '--model', fixture('arch', 'dev-llama32.Q8_0.gguf'),
      '--prompt', 'Once upon a time '.repeat(480), '--max-tokens', '4', '--json', '--threads', '2'], { cwd: root });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/processing \d+ prompt tokens/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', resolve);
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopping/);
    const j = lastJson(stdout);
    expect(j.finishReason).toBe('abort');
    expect(j.ids).toEqual([]);
    expect(j.prefilledTokens % 64).toBe(0);
    expect(j.prefilledTokens).toBeLessThan(j.promptIds.length);
  }, 120_000);
});
