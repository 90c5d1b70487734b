// The cost of constrained decoding: `cli bench` (Node, WASM backend) on the Qwen3 155M-shape model
// with its real 151k vocabulary, decoding greedily without a constraint and under a JSON schema
// (bench/schemas/nested.json: nested objects, arrays, bounded strings, enums, numbers) or
// json_object (bench/schemas/object.json, which is what response_format json_object compiles to).
// Runs in pairs, ABBA order (this machine's speed swings from one minute to the next; a ratio of
// neighbouring runs cancels most of that), medians of the per-pair ratios. Each run is a fresh
// process, so the masks start cold every time (a server keeps them across requests). Target: the
// constrained decode at least 0.90× the unconstrained one.
import path from 'node:path';
import { median, nodeRun, type CellOptions, type NodeBench } from './measure.ts';
import { ROOT } from './make-models.ts';

export const CONSTRAINED_MODEL = 'qwen3-155m-151k';
export const CONSTRAINED_TARGET = 0.9;

export const FORMATS = [
  { name: 'json_schema (nested)', file: 'bench/schemas/nested.json' },
  { name: 'json_object', file: 'bench/schemas/object.json' },
] as const;

export interface ConstrainedRow {
  format: string;
  model: string;
  quant: string;
  threads: number;
  pairs: number;
  /** median over pairs of constrained ÷ unconstrained decode tok/s */
  decodeRatio: number;
  unconstrainedTokPerSec: number;
  constrainedTokPerSec: number;
  /** the constraint's own time per decode step (mask lookup or walk, apply, accept), median over runs */
  maskMsPerToken: number;
  /** masks computed (cache misses) per decode step, and their time per step */
  maskWalksPerToken: number;
  maskWalkMsPerToken: number;
}

export interface ConstrainedOptions { threads: number; promptTokens: number; genTokens: number; pairs: number }

export async function constrainedRows(file: string, model: string, quant: string, o: ConstrainedOptions,
  log: (s: string) => void): Promise<ConstrainedRow[]> {
  const cell: CellOptions = { threads: o.threads, promptTokens: o.promptTokens, genTokens: o.genTokens, runs: 1 };
  const rows: ConstrainedRow[] = [];
  for (const f of FORMATS) {
    const extra = ['--json-schema', path.join(ROOT, f.file)];
    const ratios: number[] = [], plain: NodeBench[] = [], masked: NodeBench[] = [];
    for (let i = 0; i < o.pairs; i++) {
      let a: NodeBench, b: NodeBench;
      if (i % 2) { b = await nodeRun(file, cell, extra); a = await nodeRun(file, cell); } else { a = await nodeRun(file, cell); b = await nodeRun(file, cell, extra); }
      plain.push(a); masked.push(b); ratios.push(b.decode / a.decode);
      log(`    ${f.name} pair ${i + 1}/${o.pairs}: decode ${b.decode.toFixed(1)} vs ${a.decode.toFixed(1)} tok/s (${(b.decode / a.decode).toFixed(2)}×), `
        + `mask ${b.maskMsPerToken!.toFixed(2)} ms/token, ${b.maskWalksPerToken!.toFixed(2)} computed/token (${b.maskWalkMsPerToken!.toFixed(2)} ms/token)`);
    }
    rows.push({
      format: f.name, model, quant, threads: o.threads, pairs: o.pairs, decodeRatio: median(ratios),
      unconstrainedTokPerSec: median(plain.map((x) => x.decode)), constrainedTokPerSec: median(masked.map((x) => x.decode)),
      maskMsPerToken: median(masked.map((x) => x.maskMsPerToken!)), maskWalksPerToken: median(masked.map((x) => x.maskWalksPerToken!)),
      maskWalkMsPerToken: median(masked.map((x) => x.maskWalkMsPerToken!)),
    });
  }
  return rows;
}

/** Rows for the README. */
export function constrainedTable(rows: readonly ConstrainedRow[]): string[][] {
  if (!rows.length) return [];
  return [['format', 'model', 'quant', 'thr', 'decode', 'decode constrained', 'paired ratio', `≥ ${CONSTRAINED_TARGET.toFixed(2)}×`, 'mask ms/token',
    'mask share of a step', 'masks computed/token', 'their ms/token'],
  ...rows.map((r) => [r.format, r.model, r.quant, String(r.threads), r.unconstrainedTokPerSec.toFixed(1), r.constrainedTokPerSec.toFixed(1),
    `${r.decodeRatio.toFixed(2)}×`, r.decodeRatio >= CONSTRAINED_TARGET ? 'yes' : 'no', r.maskMsPerToken.toFixed(2),
    // the steadier figure on a busy machine: the mask's time over the constrained step's
    `${((100 * r.maskMsPerToken * r.constrainedTokPerSec) / 1000).toFixed(1)}%`,
    r.maskWalksPerToken.toFixed(2), r.maskWalkMsPerToken.toFixed(2)])];
}
