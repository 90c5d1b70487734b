// The native column of npm run bench: llama-bench's JSON (a real `-o json` output, captured once from
// scripts/build-llama-cpp.sh's llama-bench on the dev-llama fixture with llamaBenchArgs) → our prefill
// and decode tok/s, and the report with that column filled, failed or missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { llamaBench128Binary, llamaBenchArgs, parseLlamaBench } from '../../bench/native.ts';
import { markdownSection, svgChart, textTable, type BenchCell, type BenchResults } from '../../bench/report.ts';

const JSON_OUT = readFileSync(path.join(import.meta.dirname, 'llama-bench.json'), 'utf8');

describe('llama-bench output', () => {
  it('asks for pp P at depth 0 and tg N at depth P, one repetition, JSON', () => {
    expect(llamaBenchArgs('m.gguf', 2, 128, 64)).toEqual(['-m', 'm.gguf', '-p', '128', '-n', '64', '-d', '0,128', '-t', '2', '-r', '1', '-o', 'json']);
  });

  it('picks the prefill and decode tests out of the four and turns their times into tok/s', () => {
    const tests = JSON.parse(JSON_OUT) as { n_prompt: number; n_gen: number; n_depth: number; samples_ns: number[]; avg_ts: number }[];
    expect(tests.map((t) => [t.n_prompt, t.n_gen, t.n_depth]).sort()).toEqual([[0, 4, 0], [0, 4, 24], [24, 0, 0], [24, 0, 24]].sort());
    const pp = tests.find((t) => t.n_prompt === 24 && t.n_depth === 0)!;
    const tg = tests.find((t) => t.n_gen === 4 && t.n_depth === 24)!;
    const r = parseLlamaBench(JSON_OUT, 24, 4);
    expect(r.prefill).toBeCloseTo((24 * 1e9) / pp.samples_ns[0], 6);
    expect(r.decode).toBeCloseTo((4 * 1e9) / tg.samples_ns[0], 6);
    // llama-bench's own figure agrees (one sample: its mean of per-sample tok/s is that sample's)
    expect(r.prefill).toBeCloseTo(pp.avg_ts, 2);
    expect(r.decode).toBeCloseTo(tg.avg_ts, 2);
    expect(r.build).toMatch(/^[0-9a-f]{7,} \(\d+\), CPU/);
  });

  it('says which test is missing when asked for other counts', () => {
    expect(() => parseLlamaBench(JSON_OUT, 128, 4)).toThrow('llama-bench printed no pp128 test at depth 0');
    expect(() => parseLlamaBench(JSON_OUT, 24, 64)).toThrow('llama-bench printed no tg64 test at depth 24');
  });
});

describe('report with the native column', () => {
  const stats = (pp: number, tg: number) => ({ prefillTokPerSec: pp, decodeTokPerSec: tg, runs: [{ prefill: pp, decode: tg }] });
  const cell = (threads: number, extra: Partial<BenchCell>): BenchCell => ({
    model: 'llama-155m', quant: 'Q8_0', threads, fileBytes: 1, bytesPerToken: 1e8, rooflineTokPerSec: 100,
    ours: { ...stats(100, 40), loadMs: 1, peakMemoryBytes: 300 * 2 ** 20 }, wllama: { ...stats(50, 20), loadMs: 1 }, ...extra,
  });
  const native = parseLlamaBench(JSON_OUT, 24, 4);
  const r: BenchResults = {
    date: '2000-01-01', quick: true, environment: { userAgent: 'HeadlessChrome/1.0', cores: 2, node: 'v0', isolated: true },
    settings: { promptTokens: 24, genTokens: 4, runs: 1 }, bandwidth: { 1: 1e9 },
    cells: [
      cell(1, { native: { ...stats(400, 80), build: native.build }, native128: { ...stats(200, 50), build: native.build } }),
      cell(2, { nativeError: 'llama-bench failed: killed', nativeMissing: undefined, native128Error: 'llama-bench failed: killed' }),
      { ...cell(2, { nativeError: 'no llama-bench: scripts/build-llama-cpp.sh failed (exit 1)', nativeMissing: true }), quant: 'Q4_K_M' },
      { ...cell(1, {}), quant: 'Q4_0' }, // an older results file: no native run
    ],
  };

  it('puts native tok/s and ours ÷ native beside wllama in the text and README tables', () => {
    const lines = textTable(r).split('\n');
    expect(lines[0]).toMatch(/prefill ours\s+prefill wllama\s+prefill native\s+ours ÷ wllama\s+ours ÷ native\s+decode ours\s+decode wllama\s+decode native\s+ours ÷ wllama\s+ours ÷ native/);
    expect(lines[1].split(/\s{2,}/).slice(3, 13)).toEqual(['100', '50.0', '400', '2.00×', '0.25×', '40.0', '20.0', '80.0', '2.00×', '0.50×']);
    expect(lines[2].split(/\s{2,}/).slice(3, 13)).toEqual(['100', '50.0', 'failed', '2.00×', '–', '40.0', '20.0', 'failed', '2.00×', '–']);
    expect(lines[3].split(/\s{2,}/).slice(3, 13)).toEqual(['100', '50.0', 'missing', '2.00×', '–', '40.0', '20.0', 'missing', '2.00×', '–']);
    expect(lines[4].split(/\s{2,}/).slice(3, 13)).toEqual(['100', '50.0', '–', '2.00×', '–', '40.0', '20.0', '–', '2.00×', '–']);
    // the optional native-128 columns: numbers, failed, or '–' where not built (or not run)
    expect(lines[0]).toMatch(/native-128 \(pp, tg\)\s+ours ÷ native-128 \(pp, tg\)$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s{2,}/).slice(-2))).toEqual([['200, 50.0', '0.50×, 0.80×'], ['failed', '–'], ['–', '–'], ['–', '–']]);
    const md = markdownSection(r, 'x.svg');
    expect(md).toContain('| 0.50×, 0.80× |');
    expect(md).toContain('native-128: the same llama-bench built by `scripts/build-llama-cpp.sh --variant native-128`');
    expect(md).toContain('native-128 llama-bench failed on llama-155m Q8_0 2T: llama-bench failed: killed');
    expect(md).toContain('| llama-155m | Q8_0 | 1 | 100 | 50.0 | 400 | 2.00× | 0.25× | 40.0 | 20.0 | 80.0 | 2.00× | 0.50× | 40% |');
    expect(md).toContain(`Native llama.cpp: ${native.build}.`);
    expect(md).toContain('native llama-bench gave nothing on llama-155m Q8_0 2T: llama-bench failed: killed');
    expect(md).toContain('native llama-bench gave nothing on llama-155m Q4_K_M 2T: no llama-bench: scripts/build-llama-cpp.sh failed (exit 1)');
  });

  it('draws a native bar and the two ratios per cell', () => {
    const svg = svgChart(r);
    expect(svg).toContain('llama-155m Q8_0 1T native: 400 tok/s');
    expect(svg).toContain('llama-155m Q4_K_M 2T native: missing');
    expect(svg).toContain('>0.25× nat</text>');
    expect(svg).toContain('>2.00× wl</text>');
    expect(svg).toContain('native llama.cpp</text>');
    expect(svg.match(/>[\d.]+× nat</g)).toHaveLength(2); // prefill and decode of the one cell with native numbers
  });
});

describe('native-128 build', () => {
  const script = path.join(import.meta.dirname, '../../scripts/build-llama-cpp.sh');
  const commit = execFileSync('git', ['bundle', 'list-heads', path.join(import.meta.dirname, '../../node_modules/node-llama-cpp/llama/gitRelease.bundle')], { encoding: 'utf8' })
    .split('\n').find((l) => l.endsWith(' HEAD'))!.split(' ')[0];
  const run = (cache: string, ...args: string[]) => spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, LLAMA_CPP_CACHE: cache } });

  it('--check finds each variant in its own dir keyed by commit and variant, and never builds', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'llama-variant-'));
    const missing = run(cache, '--variant', 'native-128', '--check');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain(`${commit}/native-128/build/bin`);
    const bin = path.join(cache, commit, 'native-128/build/bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'llama-bench'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'llama-bench'), 0o755);
    expect(run(cache, '--variant', 'native-128', '--check')).toMatchObject({ status: 0, stdout: `${bin}\n` });
    // the wide build is a different dir: still missing
    expect(run(cache, '--check').status).toBe(3);
    expect(run(cache, '--variant', 'native-sse', '--check').status).toBe(3);
  });

  it('refuses unknown variants and arguments', () => {
    expect(run(os.tmpdir(), '--variant', 'avx9').status).toBe(2);
    expect(run(os.tmpdir(), '--bogus').status).toBe(2);
  });

  it('the bench takes $LLAMA_BENCH_128, else the built variant, else nothing', () => {
    process.env.LLAMA_BENCH_128 = '/x/llama-bench';
    try {
      expect(llamaBench128Binary()).toBe('/x/llama-bench');
    } finally {
      delete process.env.LLAMA_BENCH_128;
    }
    process.env.LLAMA_CPP_CACHE = mkdtempSync(path.join(os.tmpdir(), 'llama-variant-'));
    try {
      expect(llamaBench128Binary()).toBeUndefined();
    } finally {
      delete process.env.LLAMA_CPP_CACHE;
    }
  });
});
