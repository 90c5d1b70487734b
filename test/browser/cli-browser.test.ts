// `--browser`: CLI commands run inside headless Chromium print what the Node CLI prints
// (src/cli/main.ts run as a child process is the reference), on the WASM and WebGPU backends.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runInBrowser } from '../../src/cli/browser-runner.ts';
import { fixture } from '../fixtures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = fixture('models', 'stories260K.gguf');
const SAMPLE = fixture('quant', 'sample.txt');
const refs = JSON.parse(readFileSync(fixture('quant', 'llamacpp-refs.json'), 'utf8'));

function node(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function browser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await runInBrowser([...args, '--browser']);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('CLI --browser', () => {
  it('tokenize (text and --json) prints exactly what Node prints', async () => {
    for (const extra of [[], ['--json']]) {
      const args = ['tokenize', '--model', MODEL, '--text', 'Once upon a time, Lily ran.', ...extra];
      const b = await browser(args);
      const n = node(args);
      expect(b.code).toBe(0);
      expect(b.stdout).toBe(n.stdout);
    }
  });

  it('perplexity --backend webgpu prints the Node format with llama.cpp\'s figure (0.5%)', async () => {
    const b = await browser(['perplexity', '--model', MODEL, '--file', SAMPLE, '--backend', 'webgpu', '--json']);
    expect(b.code).toBe(0);
    const r = JSON.parse(b.stdout.trim().split('\n').pop()!);
    expect(r.nTokens).toBe(refs['stories260K.gguf'].nTokens);
    expect(Math.abs(Math.log(r.ppl / refs['stories260K.gguf'].ppl))).toBeLessThanOrEqual(Math.log(1.005));
    const text = await browser(['perplexity', '--model', MODEL, '--file', SAMPLE, '--backend', 'webgpu']);
    expect(text.stdout).toBe(`perplexity ${r.ppl.toFixed(4)} over ${r.nTokens} tokens\n`);
  });

  it('generate --temperature 0 --backend webgpu streams the same text and ids as Node', async () => {
    const args = ['generate', '--model', MODEL, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0'];
    const n = node([...args, '--json']);
    const b = await browser([...args, '--json', '--backend', 'webgpu']);
    expect(b.code).toBe(0);
    const [nj, bj] = [n.stdout, b.stdout].map((s) => JSON.parse(s.trim().split('\n').pop()!));
    expect(bj.ids).toEqual(nj.ids);
    expect(bj.text).toBe(nj.text);
    const streamed = await browser([...args, '--backend', 'webgpu']);
    expect(streamed.stdout).toBe(`${nj.text}\n`);
    expect(streamed.stderr).toMatch(/\[\d+ prompt tokens, prefill [\d.]+ tok\/s; 40 generated, decode [\d.]+ tok\/s; length\]/);
  });

  it('generate --json-schema / --grammar: the same constrained text as Node; a bad file the same error and exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-browser-'));
    const schema = path.join(dir, 's.json');
    writeFileSync(schema, JSON.stringify({ type: 'object', properties: { n: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['n'], additionalProperties: false }));
    const args = ['generate', '--model', MODEL, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0', '--json-schema', schema];
    const b = await browser(args);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(node(args).stdout);
    expect(JSON.parse(b.stdout)).toEqual({ n: expect.any(Number) });
    const bad = path.join(dir, 'bad.gbnf');
    writeFileSync(bad, 'root ::= "a');
    const e = await browser(['generate', '--model', MODEL, '--prompt', 'x', '--grammar', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toBe(node(['generate', '--model', MODEL, '--prompt', 'x', '--grammar', bad]).stderr);
  });

  it('errors: a missing model fails like in Node; a bad option is a usage error', async () => {
    const args = ['perplexity', '--model', '/nonexistent/m.gguf', '--file', SAMPLE];
    const b = await browser(args);
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(node(args).stderr);
    const u = await browser(['generate', '--model', MODEL]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^error: generate needs --prompt/);
  });
});
