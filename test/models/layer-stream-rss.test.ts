// Layer streaming holds the host's memory, not only the WASM heap, to the cap: a fresh Node process
// per run, its peak RSS less the RSS of the engine runtime before the model (Node itself, the WASM
// kernels, the thread workers) must stay within --max-memory + 10% + 4 MiB (V8 frees buffers lazily,
// later on a busy machine: a CI run on a loaded 2-core box saw 31.0 MiB for a 27.6 MiB cap), at 50%
// and 25% weight budgets, on one thread (plain memory) and two (shared), with the resident run's greedy ids.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { make8b } from '../../bench/make-8b.ts';
import { capFor } from './stream-models.ts';

const run = promisify(execFile);
const file = path.join(os.tmpdir(), `rss-90m-${process.pid}.gguf`);

interface Child { runtimeRss: number; peakRss: number; wasmBytes: number; ids: number[]; streamed: boolean }
async function child(cap: number, threads: number): Promise<Child> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'rss-child.ts'), file, String(cap), String(threads)],
    { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Child;
}

beforeAll(async () => {
  await make8b('90m', file, true);
}, 60_000);
afterAll(() => rm(file, { force: true }));

describe('layer streaming: Node peak RSS within the cap', () => {
  it('a 90 MB model at 50% and 25% weight budgets, 1 and 2 threads', async () => {
    const resident = await child(0, 1);
    expect(resident.streamed).toBe(false);
    // the measure sees the model: resident, the host holds at least its weights
    expect(resident.peakRss - resident.runtimeRss).toBeGreaterThan(40e6);
    for (const threads of [1, 2]) {
      for (const share of [0.5, 0.25]) {
        const cap = await capFor(file, share, threads);
        const r = await child(cap, threads);
        const used = r.peakRss - r.runtimeRss;
        expect(r.streamed).toBe(true);
        expect(r.ids, `${share} × ${threads} threads`).toEqual(resident.ids);
        expect(used, `${share} × ${threads} threads: ${(used / 2 ** 20).toFixed(1)} MiB of host memory for a ${(cap / 2 ** 20).toFixed(1)} MiB cap`)
          .toBeLessThanOrEqual(cap * 1.1 + 4 * 2 ** 20);
      }
    }
  }, 240_000);
});
