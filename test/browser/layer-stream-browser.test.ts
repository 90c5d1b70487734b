// Layer streaming in Chromium's WASM path (`--browser`, the model read over HTTP ranges): greedy
// output under a 50% weight budget equals the resident Node run's, and the page's WASM memory stays
// within the cap. On WebGPU the streamed layers take turns in GPU buffers the same way: its greedy
// output at a 50% budget equals its own resident run's, and its device memory stays within the cap.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { runInBrowser } from '../../src/cli/browser-runner.ts';
import { capFor, deepStories, N_CTX } from '../models/stream-models.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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

const last = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

describe('layer streaming in Chromium', () => {
  it('WASM at a 50% weight budget: the resident Node run\'s greedy ids, memory within the cap', async () => {
    const model = await deepStories(false);
    const cap = await capFor(model, 0.5, 2);
    const args = ['generate', '--model', model, '--prompt', 'Once upon a time', '--max-tokens', '24', '--temperature', '0',
      '--ctx', String(N_CTX), '--threads', '2', '--json'];
    const n = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(n.status).toBe(0);
    const b = await browser([...args, '--max-memory', String(cap)]);
    expect(b.code, b.stderr).toBe(0);
    expect(last(b.stdout).ids).toEqual(last(n.stdout).ids);
    const bench = await browser(['bench', '--model', model, '--prompt-tokens', '8', '--gen-tokens', '8', '--ctx', String(N_CTX),
      '--threads', '2', '--json', '--max-memory', String(cap)]);
    expect(bench.code, bench.stderr).toBe(0);
    const r = last(bench.stdout);
    expect(r.residentLayers).toBeLessThan(10);
    expect(r.peakMemoryBytes).toBeLessThanOrEqual(cap * 1.1);
  }, 240_000);

  it('WebGPU at a 50% weight budget: its resident run\'s greedy ids, device memory within the cap', async () => {
    const model = await deepStories(true);
    const cap = await capFor(model, 0.5, 1, 'webgpu');
    const args = ['generate', '--model', model, '--prompt', 'Once upon a time', '--max-tokens', '24', '--temperature', '0',
      '--ctx', String(N_CTX), '--backend', 'webgpu', '--json'];
    const resident = await browser(args);
    expect(resident.code, resident.stderr).toBe(0);
    const streamed = await browser([...args, '--max-memory', String(cap)]);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(last(streamed.stdout).ids).toEqual(last(resident.stdout).ids);
    const bench = await browser(['bench', '--model', model, '--prompt-tokens', '8', '--gen-tokens', '8', '--ctx', String(N_CTX),
      '--backend', 'webgpu', '--json', '--max-memory', String(cap)]);
    expect(bench.code, bench.stderr).toBe(0);
    const r = last(bench.stdout);
    expect(r.residentLayers).toBeLessThan(10);
    expect(r.streamedBytesPerToken).toBeGreaterThan(0);
    expect(r.peakMemoryBytes).toBeLessThanOrEqual(cap * 1.1);
  }, 240_000);
});
