// `cli convert`: a Hugging Face folder to a GGUF file (engine/convert.ts), row chunks converted on the
// Node worker pool. Written to FILE.part and renamed when complete, so a failure leaves no file behind.
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { convertFolder, type ConvertProgress, type ConvertResult, type ConvertType } from '../engine/convert.ts';
import { nodeFolder } from '../formats/node-file-source.ts';
import { createQuantizePool } from '../quant/node-quantize-pool.ts';
import { EngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';

export interface ConvertFileOptions {
  /** worker threads (default: one per core) */
  threads?: number;
  /** chunks in flight (default: twice the pool) */
  inFlight?: number;
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
}

/** Converts folder `dir` into `out`; the result names the file and its tensor type counts. */
export async function convertToFile(dir: string, out: string, type: ConvertType, opts: ConvertFileOptions = {}): Promise<ConvertResult & { out: string }> {
  if (path.resolve(out).startsWith(path.resolve(dir) + path.sep)) throw new EngineError('BAD_ARGUMENT', '--out must not lie inside the --in folder.');
  const folder = await nodeFolder(dir);
  const tmp = `${out}.part`;
  const fh = await open(tmp, 'w').catch((e: Error) => {
    throw new EngineError('IO', `Cannot write ${out}: ${e.message}`, { cause: e });
  });
  const pool = createQuantizePool(opts.threads);
  try {
    let r: ConvertResult;
    try {
      r = await convertFolder(folder, type, {
        async write(pos, b) {
          let done = 0;
          while (done < b.length) done += (await fh.write(b, done, b.length - done, pos + done)).bytesWritten;
        },
      }, { convert: pool.convert, inFlight: opts.inFlight ?? 2 * pool.size, onProgress: opts.onProgress, signal: opts.signal });
    } finally {
      await pool.close();
      await fh.close();
    }
    await rename(tmp, out);
    return { out, ...r };
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function runConvert(o: CliOptions): Promise<void> {
  const err = (s: string) => process.stderr.write(s);
  const t0 = performance.now();
  let last = -1;
  const r = await convertToFile(o.in!, o.out!, o.type as ConvertType, {
    threads: o.threads,
    onProgress(p) {
      const pct = Math.floor((100 * p.doneBytes) / p.totalBytes);
      if (pct === last) return;
      last = pct;
      const mib = (p.doneBytes / 2 ** 20).toFixed(0), secs = (performance.now() - t0) / 1000;
      const line = `converting ${pct}% (${mib} MiB, ${(p.doneBytes / 2 ** 20 / Math.max(secs, 1e-3)).toFixed(0)} MiB/s) ${p.tensor}`;
      err(process.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
    },
  });
  if (process.stderr.isTTY) err('\r\x1b[K');
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const mix = Object.entries(r.types).map(([k, v]) => `${v} ${k}`).join(', ');
    process.stdout.write(`wrote ${r.out}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB (${mix}) in ${secs} s\n`);
  }
}
