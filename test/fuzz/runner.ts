// Property-based fuzzing of the parsers that read untrusted input (#14): each target gets mutated
// real inputs and must, for every one, finish within a time bound, allocate no more than its cap,
// and either succeed or throw one of our typed errors (EngineError); anything else — a TypeError,
// a RangeError, a stack overflow, a hang — is a failure. fast-check prints the seed and path of a
// failure; FUZZ_SEED and FUZZ_PATH replay it. FUZZ_RUNS sets the count (npm test: a fast slice;
// `npm run fuzz`: 10,000 each, with a report in fuzz-report/).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { isEngineError } from '../../src/shared/errors.ts';

export const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

export interface FuzzTarget<T> {
  name: string;
  input: fc.Arbitrary<T>;
  /** size of the input in bytes, for the allocation bound */
  size(input: T): number;
  run(input: T): unknown;
  /** allocation allowed beyond 2 × the input (fixed costs such as a vocabulary's tables) */
  capBytes: number;
  /** per-input wall-clock bound */
  maxMs: number;
  /** the errors this parser may throw (default: EngineError and its kinds) */
  typed?: (e: unknown) => boolean;
}

export interface FuzzReport { name: string; runs: number; maxMs: number; maxBytes: number; maxBytesInput: number; accepted: number; typedErrors: number; seed: number }

/** Heap and ArrayBuffer bytes in use (after a minor GC when exposed), for the allocation delta. */
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export async function fuzz<T>(t: FuzzTarget<T>): Promise<FuzzReport> {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 2 ** 31);
  const report: FuzzReport = { name: t.name, runs: 0, maxMs: 0, maxBytes: 0, maxBytesInput: 0, accepted: 0, typedErrors: 0, seed };
  await fc.assert(fc.asyncProperty(t.input, async (input) => {
    const before = used();
    let peak = 0;
    const t0 = performance.now();
    try {
      await t.run(input);
      report.accepted++;
    } catch (e) {
      if (!(t.typed ?? isEngineError)(e)) throw new Error(`untyped ${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      report.typedErrors++;
    }
    const ms = performance.now() - t0;
    peak = Math.max(peak, used() - before);
    report.runs++;
    report.maxMs = Math.max(report.maxMs, ms);
    if (peak > report.maxBytes) { report.maxBytes = peak; report.maxBytesInput = t.size(input); }
    if (ms > t.maxMs) throw new Error(`took ${ms.toFixed(0)} ms (bound ${t.maxMs} ms)`);
    const cap = 2 * t.size(input) + t.capBytes;
    if (peak > cap) throw new Error(`allocated ${peak} bytes for a ${t.size(input)}-byte input (cap ${cap})`);
  }), {
    numRuns: RUNS, seed,
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
    endOnFailure: true,
  });
  console.log(`fuzz ${t.name}: ${report.runs} inputs (seed ${seed}), ${report.accepted} accepted, ${report.typedErrors} typed errors; `
    + `max ${report.maxMs.toFixed(1)} ms, max +${(report.maxBytes / 2 ** 20).toFixed(1)} MiB (for a ${report.maxBytesInput}-byte input)`);
  if (process.env.FUZZ_REPORT) {
    mkdirSync(process.env.FUZZ_REPORT, { recursive: true });
    writeFileSync(path.join(process.env.FUZZ_REPORT, `${t.name}.json`), JSON.stringify(report, null, 2));
  }
  return report;
}
