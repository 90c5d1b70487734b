// `npm run bench [-- --quick] [--models ID,…] [--runs N] [--runs-1b N] [--q4_0] [--no-node] [--no-native] [--no-make] [--no-readme]
// [--pairs N] [--families-only] [--streaming [--threads 1,2]] [--constrained-only] [--no-constrained] [--note TEXT] [--report-only]`: our engine vs wllama in headless
// Chromium and native llama.cpp (llama-bench, built by scripts/build-llama-cpp.sh on first use) on the bench models
// (made on first use by bench/make-models.ts), plus memory bandwidth and `cli bench` in Node. Writes
// bench/results/<date>.json and .svg and the README's Benchmarks table. --quick: the first model, one run
// per cell, all three engines (`--quick --no-node --no-readme` checks the native column in a few minutes).
// LLAMA_BENCH=path: that llama-bench instead of the one scripts/build-llama-cpp.sh builds.
// --streaming adds (to the newest results file) the layer-streaming curve: tok/s at 100/50/25%
// weight budgets (bench/streaming.ts), Q4_K_M, 2 threads (or --threads), for the chosen models that are built; rows of other models and thread counts stay.
// --constrained-only adds (likewise) the cost of constrained decoding (bench/constrained.ts): paired
// `cli bench` runs with and without a JSON schema on the Qwen3 155M-shape model with the real 151k
// vocabulary (made on first use), --pairs N (default 6), 2 threads (or the first of --threads).
// A full run measures it too, after the families (--no-constrained skips it).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openBrowser } from '../test/browser/harness.ts';
import { DEFAULT_SHAPES, ensureModels, modelPath, ROOT, SHAPES } from './make-models.ts';
import { benchCell, bytesPerToken, pairedRatio, PAGE, type CellOptions } from './measure.ts';
import { hostPathTimings, printHostPaths } from './host-paths.ts';
import { streamingCurve, type StreamingRow } from './streaming.ts';
import { CONSTRAINED_MODEL, constrainedRows } from './constrained.ts';
import { markdownSection, svgChart, textTable, updateReadme, type BenchCell, type BenchResults } from './report.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' }, models: { type: 'string' }, runs: { type: 'string' }, 'runs-1b': { type: 'string' }, q4_0: { type: 'boolean' }, 'no-node': { type: 'boolean' }, 'no-native': { type: 'boolean' },
    'no-readme': { type: 'boolean' }, pairs: { type: 'string' }, 'families-only': { type: 'boolean' }, streaming: { type: 'boolean' }, rounds: { type: 'string' }, 'no-make': { type: 'boolean' }, note: { type: 'string' }, 'report-only': { type: 'boolean' },
    threads: { type: 'string' }, 'constrained-only': { type: 'boolean' }, 'no-constrained': { type: 'boolean' },
  },
});
const quick = !!args.quick;
const picked = args.models?.split(',');
const unknown = picked?.filter((id) => !SHAPES.some((s) => s.id === id));
if (unknown?.length) throw new Error(`unknown bench model(s) ${unknown.join(', ')}; known: ${SHAPES.map((s) => s.id).join(', ')}`);
const shapes = picked ? SHAPES.filter((s) => picked.includes(s.id)) : quick ? DEFAULT_SHAPES.slice(0, 1) : DEFAULT_SHAPES;
const quants = ['Q4_K_M', 'Q8_0', ...(args.q4_0 ? ['Q4_0'] : [])];
const threadCounts = [1, 2];
// the 1B shape's runs take minutes each (wllama prefills it at a few tok/s): fewer of them
const settings = { promptTokens: 128, genTokens: 64, runs: Number(args.runs ?? (quick ? 1 : 5)), runs1b: Number(args['runs-1b'] ?? 3) };
const log = (s: string) => process.stderr.write(`${s}\n`);

async function main(): Promise<void> {
  if (!args['no-make']) await ensureModels(shapes, quants);
  const open = () => openBrowser({ timeoutMs: 15 * 60_000 });
  const h = await open();
  let env: { userAgent: string; isolated: boolean; cores: number };
  const bandwidth: Record<string, number> = {};
  try {
    env = await h.run(PAGE, 'environment');
    if (!env.isolated) throw new Error('the bench page is not cross-origin isolated: no threads for either engine');
    for (const t of threadCounts) bandwidth[t] = await h.run<number>(PAGE, 'bandwidth', t, 512);
  } finally {
    await h.close();
  }
  log(`memory bandwidth: ${Object.entries(bandwidth).map(([t, b]) => `${(b / 1e9).toFixed(1)} GB/s (${t}T)`).join(', ')}`);
  const results: BenchResults = {
    date: new Date().toISOString().slice(0, 10), quick, note: args.note,
    environment: { userAgent: env.userAgent, cores: env.cores, node: process.version, isolated: env.isolated },
    settings, bandwidth, cells: [],
  };
  // per-token and per-load host paths (sampler, tokenizer), with their targets
  results.hostPaths = hostPathTimings();
  if (!printHostPaths(results.hostPaths)) process.exitCode = 1;
  for (const s of shapes) {
    for (const q of quants) {
      const file = modelPath(s, q);
      if (!existsSync(file)) { log(`skipping ${s.id} ${q}: ${file} is missing`); continue; }
      const bpt = await bytesPerToken(file, settings.promptTokens + settings.genTokens / 2);
      for (const threads of threadCounts) {
        log(`${s.id} ${q}, ${threads} thread(s)`);
        const o: CellOptions = { ...settings, runs: s.big ? settings.runs1b : settings.runs, threads, node: !args['no-node'], native: !args['no-native'], native128: !args['no-native'] };
        let cell;
        try {
          cell = await benchCell(open, file, o, log);
        } catch (e) {
          log(`    skipped: our engine failed on this cell: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        results.cells.push({ ...cell, model: s.id, quant: q, fileBytes: (await stat(file)).size, bytesPerToken: bpt,
          rooflineTokPerSec: bandwidth[threads] / bpt });
        // a long run that dies later keeps what it measured
        await writeJson({ ...results, partial: true });
      }
    }
  }
  await families(results);
  if (!args['no-constrained']) await constrained(results);
  await write(results);
}

/** Constrained vs unconstrained decode on the 151k-vocabulary model (see bench/constrained.ts). */
async function constrained(r: BenchResults): Promise<void> {
  const s = SHAPES.find((x) => x.id === CONSTRAINED_MODEL)!;
  const q = 'Q4_K_M';
  if (!args['no-make']) await ensureModels([s], [q]);
  if (!existsSync(modelPath(s, q))) { log(`skipping constrained decoding: ${modelPath(s, q)} is missing`); return; }
  const threads = Number((args.threads ?? '2').split(',')[0]);
  const o = { threads, promptTokens: settings.promptTokens, genTokens: settings.genTokens, pairs: Number(args.pairs ?? (quick ? 2 : 6)) };
  log(`${s.id} ${q} ${threads} thread(s): constrained vs unconstrained decode, ${o.pairs} pairs per format`);
  const rows = await constrainedRows(modelPath(s, q), s.id, q, o, log);
  r.constrained = { date: new Date().toISOString().slice(0, 10), settings: o, rows, note: args['constrained-only'] ? args.note ?? r.constrained?.note : r.constrained?.note };
}

/** Adds the constrained-decoding rows to the newest results file (replacing earlier ones) and re-renders it. */
async function constrainedOnly(): Promise<void> {
  const r = await latest();
  await constrained(r);
  await write(r);
}

/** Each family against Llama at the 155M shape, from paired Node runs (see pairedRatio). */
async function families(r: BenchResults): Promise<void> {
  const base = SHAPES.find((s) => s.id === 'llama-155m')!;
  const pairs = Number(args.pairs ?? 6);
  r.families = [];
  for (const s of shapes.filter((x) => x.arch !== 'llama' && x.id.endsWith('-155m'))) {
    for (const q of quants) {
      if (!existsSync(modelPath(s, q)) || !existsSync(modelPath(base, q))) continue;
      for (const threads of threadCounts) {
        log(`${s.id} vs ${base.id}, ${q}, ${threads} thread(s): paired cli bench runs`);
        const o: CellOptions = { ...settings, runs: 1, threads, node: true };
        const p = await pairedRatio(modelPath(s, q), modelPath(base, q), o, pairs, log);
        r.families.push({ model: s.id, quant: q, threads, decodeRatio: p.decode, prefillRatio: p.prefill, pairs: p.pairs });
        await writeJson({ ...r, partial: true });
      }
    }
  }
}

/** Adds the paired family ratios to the newest results file and re-renders it. */
async function familiesOnly(): Promise<void> {
  const r = await latest();
  await families(r);
  await write(args.note === undefined ? r : { ...r, note: args.note });
}

async function latest(): Promise<BenchResults> {
  const dir = path.join(ROOT, 'bench/results');
  const name = (await readdir(dir)).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f)).sort().pop();
  if (!name) throw new Error('no bench/results/<date>.json yet: run npm run bench first');
  return JSON.parse(await readFile(path.join(dir, name), 'utf8')) as BenchResults;
}

async function writeJson(r: BenchResults): Promise<string> {
  const dir = path.join(ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, `${r.date}.json`);
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  return json;
}

async function write(r: BenchResults): Promise<void> {
  const json = await writeJson(r);
  const svgName = `${r.date}.svg`;
  await writeFile(path.join(path.dirname(json), svgName), svgChart(r));
  if (!args['no-readme']) {
    const readme = path.join(ROOT, 'README.md');
    await writeFile(readme, updateReadme(await readFile(readme, 'utf8'), markdownSection(r, svgName)));
  }
  process.stdout.write(`\n${textTable(r)}\n\nwrote ${path.relative(ROOT, json)} and ${svgName}${args['no-readme'] ? '' : ', README.md Benchmarks'}\n`);
  log(`(${os.cpus().length} CPUs; tok/s; ratios are ours ÷ wllama, ours ÷ native and Node ÷ browser)`);
}

/** Measures the streaming curve of each chosen (and built) model and adds it to the newest results. */
async function streamingOnly(): Promise<void> {
  const r = await latest();
  // --threads 1,2: one curve per thread count (on 2 cores, 1 compute thread leaves the file reads a core)
  const threads = (args.threads ?? '2').split(',').map(Number);
  const o = { threads: threads[0], promptTokens: 32, genTokens: 32, rounds: Number(args.rounds ?? (quick ? 1 : 3)) };
  const rows: StreamingRow[] = [];
  for (const s of shapes) {
    // Q4_K: written directly by bench/make-8b.ts (no F32 to quantize first)
    const q = ['Q4_K_M', 'Q4_K'].find((x) => existsSync(modelPath(s, x)));
    if (!q) { log(`skipping ${s.id}: no ${modelPath(s, 'Q4_K_M')}`); continue; }
    for (const t of threads) {
      log(`${s.id} ${q} ${t} thread(s): streaming curve (${o.rounds} rounds)`);
      rows.push(...await streamingCurve(modelPath(s, q), s.id, q, { ...o, threads: t }, log));
    }
  }
  // rows not measured this time (other models, thread counts) stay
  const fresh = (x: StreamingRow) => rows.some((y) => y.model === x.model && y.quant === x.quant && y.threads === x.threads);
  const kept = (r.streaming?.rows ?? []).filter((x) => !fresh(x));
  // --note here annotates the streaming table
  await write({ ...r, streaming: { ...r.streaming, date: new Date().toISOString().slice(0, 10), settings: o, rows: [...kept, ...rows], note: args.note ?? r.streaming?.note } });
}

/** Re-renders the chart and README from the newest bench/results/*.json (e.g. after editing its note). */
async function reportOnly(): Promise<void> {
  const r = await latest();
  await write(args.note === undefined ? r : { ...r, note: args.note });
}

await (args['report-only'] ? reportOnly() : args['families-only'] ? familiesOnly() : args.streaming ? streamingOnly()
  : args['constrained-only'] ? constrainedOnly() : main());
