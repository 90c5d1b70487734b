// `cli convert` streams: its peak memory does not grow with the model. The synthetic ~880 MB bf16
// folder of test/fixtures/big-hf-folder.ts, written to the temp dir, converted to Q8_0 in a child
// process whose peak RSS (getrusage maxrss, threads included) is compared with the same command on a
// 2.6 MB folder.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { writeBigHFFolder } from '../fixtures/big-hf-folder.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(tmpdir(), 'convert-rss-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs cli convert in a child that prints its peak RSS (KiB) on exit. */
async function convertPeak(dir: string, out: string, type: string): Promise<{ peakMiB: number; secs: number }> {
  const hook = `data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss '+process.resourceUsage().maxRSS+'\\n'))`;
  const t0 = performance.now();
  const { stderr } = await promisify(execFile)(process.execPath, ['--import', hook, '--import', 'tsx', 'src/cli/main.ts', 'convert',
    '--in', dir, '--type', type, '--out', out, '--threads', '2'], { cwd: root, timeout: 150_000, maxBuffer: 16 << 20 });
  const kib = Number(/maxrss (\d+)/.exec(stderr)![1]);
  return { peakMiB: kib / 1024, secs: (performance.now() - t0) / 1000 };
}

it('peak RSS converting an 880 MB bf16 folder to Q8_0 stays within a fixed margin of a 2.6 MB one', async () => {
  const big = mkdtempSync(path.join(tmp, 'big-'));
  const t0 = performance.now();
  const bytes = writeBigHFFolder(big);
  const writeSecs = (performance.now() - t0) / 1000;
  expect(bytes).toBeGreaterThan(600e6);
  const small = await convertPeak(fixture('models', 'TinyStories-656K'), path.join(tmp, 'small.gguf'), 'Q8_0');
  const large = await convertPeak(big, path.join(tmp, 'big.gguf'), 'Q8_0');
  rmSync(big, { recursive: true, force: true });
  console.log(`convert Q8_0: ${(bytes / 2 ** 20).toFixed(0)} MiB folder (written in ${writeSecs.toFixed(1)} s): peak RSS ${large.peakMiB.toFixed(0)} MiB in ${large.secs.toFixed(1)} s; `
    + `2.6 MB folder: ${small.peakMiB.toFixed(0)} MiB in ${small.secs.toFixed(1)} s`);
  // the bound (README): baseline + 300 MiB for the chunks in flight (2 × pool = 4 here, each 8 MiB of
  // bf16, 16 MiB of f32 and 4 MiB of Q8_0, on two threads' heaps with their GC slack); measured +220 MiB.
  // One f32 copy of the 32000×4096 embeddings alone would add 500 MiB.
  expect(large.peakMiB - small.peakMiB).toBeLessThan(300);
}, 180_000);
