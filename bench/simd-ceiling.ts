// `npm run bench:ceiling [-- --rounds N] [--secs S]`: what 128-bit WASM SIMD can physically reach against
// native code on this CPU, one thread, for int8 dot products (the inner loop of our quantized matmuls).
// Native: bench/simd-ceiling/dot.c built twice with gcc, -O3 -march=native (every width the CPU has, up to
// AVX-512 VNNI) and -O3 -msse4.2 (128-bit SSE only). WASM: bench/simd-ceiling/dot-wat.ts, the same
// kernels in relaxed SIMD (our engine's pmaddubsw+pmaddwd spelling, and the one-op relaxed dot-add) and
// plain SIMD (extend + i32x4.dot_i16x8_s), in this Node's V8. Two working sets: l1 (a 4x2 GEMM tile over
// 12 KB, compute-bound: the prefill ceiling) and stream (4x1 GEMV over 100 MiB: decode's memory-bound loop).
// Rounds alternate native and WASM; the report gives medians and the median of per-round ratios.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ceilingKernels, FLAVOURS, KL1, KST, type CeilingKernels } from './simd-ceiling/dot-wat.ts';

export type WorkingSet = 'l1' | 'stream';
export interface Sample { engine: string; kernel: string; set: WorkingSet; gops: number; gbps: number }

/** dot.c's lines ("<kernel> <set> <GOPS> <GB/s> ok|BAD"); a BAD or malformed line is an error, not a number. */
export function parseNativeOutput(engine: string, text: string): Sample[] {
  return text.trim().split('\n').filter((l) => l.trim()).map((line) => {
    const m = /^(\w+) (l1|stream) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (ok|BAD)$/.exec(line.trim());
    if (!m) throw new Error(`simd-ceiling: unexpected line from ${engine}: ${line}`);
    if (m[5] !== 'ok') throw new Error(`simd-ceiling: ${engine} ${m[1]} ${m[2]} computed wrong dots`);
    return { engine, kernel: m[1], set: m[2] as WorkingSet, gops: Number(m[3]), gbps: Number(m[4]) };
  });
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const key = (s: { engine: string; kernel: string }) => `${s.engine} ${s.kernel}`;

/** One round's samples by "engine kernel" and set. */
function find(round: Sample[], k: string, set: WorkingSet): Sample | undefined {
  return round.find((s) => key(s) === k && s.set === set);
}

/** Median GOPS of a kernel over rounds (undefined where no round has it). */
export function medianGops(rounds: Sample[][], k: string, set: WorkingSet): number | undefined {
  const xs = rounds.map((r) => find(r, k, set)?.gops).filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
}

/** Median over rounds of num ÷ den GOPS measured in the same round (paired, so drift between rounds cancels). */
export function pairedRatio(rounds: Sample[][], num: string, den: string, set: WorkingSet): number | undefined {
  const xs = rounds.flatMap((r) => { const a = find(r, num, set); const b = find(r, den, set); return a && b ? [a.gops / b.gops] : []; });
  return xs.length ? median(xs) : undefined;
}

/** The native kernel of the widest SIMD this CPU's -march=native build has. */
export function widestNative(rounds: Sample[][], engine: string): string | undefined {
  const have = new Set(rounds.flat().filter((s) => s.engine === engine).map((s) => s.kernel));
  const k = ['vnni512', 'maddubs256', 'vnni128', 'maddubs128'].find((x) => have.has(x));
  return k && `${engine} ${k}`;
}

export const WIDE = 'native -march=native';
export const SSE = 'native -msse4.2';

/** The report: GOPS (and GB/s of weights for stream) per kernel, then the WASM ÷ native ceilings. */
export function ceilingReport(rounds: Sample[][]): string {
  const kernels = [...new Set(rounds.flat().map(key))];
  const f = (x: number | undefined, d = 1) => (x === undefined ? '–' : x.toFixed(d));
  const gbps = (k: string) => { const xs = rounds.map((r) => find(r, k, 'stream')?.gbps).filter((x): x is number => x !== undefined); return xs.length ? median(xs) : undefined; };
  const rows = [['kernel', 'l1 GOPS', 'stream GOPS', 'stream GB/s'],
    ...kernels.map((k) => [k, f(medianGops(rounds, k, 'l1')), f(medianGops(rounds, k, 'stream')), f(gbps(k))])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')).join('\n');
  const wide = widestNative(rounds, WIDE);
  const dens = [[wide, 'native widest'], [`${WIDE} vnni128`, 'native 128-bit VNNI (sdot-like)'],
    [`${WIDE} maddubs128`, 'native 128-bit pmaddubsw (same ops as relaxed)'], [`${SSE} maddubs128`, 'native SSE-only build']] as const;
  const ratios = ['wasm relaxed', 'wasm relaxed-add', 'wasm relaxed-add(wrong)', 'wasm plain'].flatMap((num) => dens.flatMap(([den, label]) => {
    if (!den) return [];
    const l1 = pairedRatio(rounds, num, den, 'l1'); const st = pairedRatio(rounds, num, den, 'stream');
    return l1 === undefined && st === undefined ? [] : [`${num} ÷ ${label} (${den.split(' ').pop()}): prefill-like (l1) ${f(l1, 2)}×, decode-like (stream) ${f(st, 2)}×`];
  }));
  const wrong = kernels.some((k) => k.endsWith('(wrong)')) ? '\n(wrong): this V8 computes wrong dots with that instruction; its speed only' : '';
  return `${table}\n\n${ratios.join('\n')}${wrong}`;
}

/** Best call over about `secs` seconds, after a warm-up long enough for V8 to tier the module up to TurboFan. */
async function timeBest(fn: () => void, secs: number): Promise<number> {
  for (const end = performance.now() + 300; performance.now() < end;) { fn(); await new Promise((r) => setTimeout(r, 5)); }
  let best = Infinity;
  for (const end = performance.now() + secs * 1000; performance.now() < end;) {
    const t = performance.now(); fn(); best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

const MST = 25600;
const W = 0, X = MST * KST, OUT = X + 2 * KST;

/** The same data as dot.c (its LCG), in one flavour's memory. */
function fill(k: CeilingKernels): { w: Int8Array; x: Uint8Array } {
  const w = new Int8Array(k.mem.buffer, W, MST * KST); const x = new Uint8Array(k.mem.buffer, X, 2 * KST);
  let s = 12345;
  for (let i = 0; i < w.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; w[i] = (s >>> 24) << 24 >> 24; }
  for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s >>> 25; }
  return { w, x };
}

const dotRef = (w: Int8Array, wo: number, x: Uint8Array, xo: number, n: number) => { let s = 0; for (let i = 0; i < n; i++) s += w[wo + i] * x[xo + i]; return s; };

/** WASM samples of every flavour; wrong dots throw, except relaxed-add's (see below). */
export async function wasmRound(mods: Map<string, CeilingKernels>, secs: number): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const [f, k] of mods) {
    const { w, x } = fill(k);
    const o = new Int32Array(k.mem.buffer, OUT, MST);
    const reps = 4000;
    const t1 = await timeBest(() => k.l1(W, X, OUT, reps), secs);
    let ok = true;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) ok &&= o[i * 2 + j] === Math.imul(dotRef(w, i * KL1, x, j * KL1, KL1), reps);
    const t2 = await timeBest(() => k.stream(W, X, OUT, MST), secs * 3);
    ok &&= o[0] === dotRef(w, 0, x, 0, KST) && o[MST - 1] === dotRef(w, (MST - 1) * KST, x, 0, KST);
    // Node 20's V8 miscompiles relaxed_dot_i8x16_i7x16_add_s (why our engine avoids it): its speed is still
    // worth seeing (is it one vpdpbusd?), so it is marked, not dropped; any other wrong flavour is a bug here
    if (!ok && f !== 'relaxed-add') throw new Error(`simd-ceiling: wasm ${f} computed wrong dots`);
    const kernel = ok ? f : `${f}(wrong)`;
    out.push({ engine: 'wasm', kernel, set: 'l1', gops: (2 * 8 * KL1 * reps) / t1 / 1e9, gbps: 0 },
      { engine: 'wasm', kernel, set: 'stream', gops: (2 * MST * KST) / t2 / 1e9, gbps: (MST * KST) / t2 / 1e9 });
  }
  return out;
}

async function main() {
  const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, secs: { type: 'string', default: '0.3' } } });
  const rounds = Number(a.rounds); const secs = Number(a.secs);
  try { execFileSync('gcc', ['--version'], { stdio: 'ignore' }); } catch { throw new Error('simd-ceiling needs gcc on PATH for the native side'); }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'simd-ceiling-'));
  const src = path.join(import.meta.dirname, 'simd-ceiling/dot.c');
  const bins = ([[WIDE, '-march=native'], [SSE, '-msse4.2']] as const).map(([engine, flag]) => {
    const bin = path.join(dir, `dot${flag}`);
    execFileSync('gcc', ['-O3', flag, '-o', bin, src]);
    return { engine, bin };
  });
  const mods = new Map<string, CeilingKernels>();
  for (const f of FLAVOURS) mods.set(f, await ceilingKernels(f, OUT + 4 * MST));
  console.log(`${os.cpus()[0]?.model ?? 'cpu'}; node ${process.version}; ${rounds} rounds, 1 thread`);
  const all: Sample[][] = [];
  for (let r = 0; r < rounds; r++) {
    // alternate which side goes first so a slow spell on the machine hits both
    const nat = () => bins.flatMap(({ engine, bin }) => parseNativeOutput(engine, execFileSync(bin, [String(secs)], { encoding: 'utf8' })));
    const round = r % 2 ? [...await wasmRound(mods, secs), ...nat()] : [...nat(), ...await wasmRound(mods, secs)];
    all.push(round);
    console.error(`round ${r + 1}/${rounds} done`);
  }
  console.log(ceilingReport(all));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
