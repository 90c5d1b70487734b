// `cli convert`: a Hugging Face folder to a GGUF file (engine/convert.ts), row chunks converted on the
// Node worker pool. Written to FILE.part and renamed when complete, so a failure leaves no file behind.
import path from 'node:path';
import { convertFolder, type ConvertProgress, type ConvertResult, type ConvertType } from '../engine/convert.ts';
import { nodeFolder } from '../formats/node-file-source.ts';
import { createQuantizePool } from '../quant/node-quantize-pool.ts';
import { EngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';
import { printWritten, writePartFile } from './part-file.ts';

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
  const r = await writePartFile(out, async (sink) => {
    const pool = createQuantizePool(opts.threads);
    try {
      return await convertFolder(folder, type, sink,
        { convert: pool.convert, inFlight: opts.inFlight ?? 2 * pool.size, onProgress: opts.onProgress, signal: opts.signal });
    } finally {
      await pool.close();
    }
  });
  return { out, ...r };
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
  printWritten(r, o.json, t0);
}
