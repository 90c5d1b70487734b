// `cli quantize`: rewrites an F32/F16/BF16 GGUF as a llama.cpp quantization mix, one row chunk at a
// time (the model never sits in memory whole). Progress goes to stderr.
import path from 'node:path';
import { openGGUF } from '../formats/gguf/reader.ts';
import { openNodeFiles } from '../formats/node-file-source.ts';
import { createQuantizePool } from '../quant/node-quantize-pool.ts';
import { planQuantization, quantizeModel, type FileTypeName } from '../quant/quantize-model.ts';
import { ggmlTypeName } from '../quant/types.ts';
import { EngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';
import { printWritten, writePartFile } from './part-file.ts';

export interface QuantizeResult { out: string; bytes: number; types: Record<string, number> }

/** Quantizes `input` into `out` (written to a temporary name, renamed when complete). */
export async function quantizeFile(input: string, out: string, type: FileTypeName,
  onProgress?: (done: number, total: number, tensor: string) => void): Promise<QuantizeResult> {
  if (path.resolve(input) === path.resolve(out)) throw new EngineError('BAD_ARGUMENT', '--out must differ from --in.');
  const file = await openGGUF(await openNodeFiles(input));
  try {
    const plan = planQuantization(file, type);
    const bytes = await writePartFile(out, async (sink) => {
      const pool = createQuantizePool();
      try {
        return await quantizeModel(file, plan, sink, (p) => onProgress?.(p.doneBytes, p.totalBytes, p.tensor),
          { convert: pool.convert, inFlight: 2 * pool.size });
      } finally {
        await pool.close();
      }
    });
    const types: Record<string, number> = {};
    for (const t of plan.tensors) types[ggmlTypeName(t.type)] = (types[ggmlTypeName(t.type)] ?? 0) + 1;
    return { out, bytes, types };
  } finally {
    await file.close();
  }
}

export async function runQuantize(o: CliOptions): Promise<void> {
  const err = (s: string) => process.stderr.write(s);
  let last = -1;
  const t0 = performance.now();
  const r = await quantizeFile(o.in!, o.out!, o.type as FileTypeName, (done, total, tensor) => {
    const pct = Math.floor((100 * done) / total);
    if (pct === last) return;
    last = pct;
    err(process.stderr.isTTY ? `\rquantizing ${pct}% ${tensor}\x1b[K` : `quantizing ${pct}% ${tensor}\n`);
  });
  printWritten(r, o.json, t0);
}
