// Output files of `cli quantize` and `cli convert`: written at fixed positions into FILE.part, renamed to FILE
// only when complete, removed on any failure (so no half-written model is ever left under its name).
import { open, rename, rm } from 'node:fs/promises';
import type { QuantizeSink } from '../quant/quantize-model.ts';
import { EngineError } from '../shared/errors.ts';

/** Runs `write` against a sink on `${out}.part`, then renames it to `out`. */
export async function writePartFile<R>(out: string, write: (sink: QuantizeSink) => Promise<R>): Promise<R> {
  const tmp = `${out}.part`;
  try {
    const fh = await open(tmp, 'w').catch((e: Error) => {
      throw new EngineError('IO', `Cannot write ${out}: ${e.message}`, { cause: e });
    });
    let r: R;
    try {
      r = await write({
        async write(pos, b) {
          let done = 0;
          while (done < b.length) done += (await fh.write(b, done, b.length - done, pos + done)).bytesWritten;
        },
      });
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
    return r;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The last line of both commands: the JSON result, or size, tensor type mix and time. */
export function printWritten(r: { out: string; bytes: number; types: Record<string, number> }, json: boolean | undefined, t0: number): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const mix = Object.entries(r.types).map(([k, v]) => `${v} ${k}`).join(', ');
    process.stdout.write(`wrote ${r.out}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB (${mix}) in ${secs} s\n`);
  }
}
