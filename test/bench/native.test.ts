// The native column of npm run bench: llama-bench's JSON (a real `-o json` output, captured once from
// scripts/build-llama-cpp.sh's llama-bench on the dev-llama fixture with llamaBenchArgs) → our prefill
// and decode tok/s, and the report with that column filled, failed or missing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { llamaBenchArgs, parseLlamaBench } from '../../bench/native.ts';
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
      cell(1, { native: { ...stats(400, 80), build: native.build } }),
      cell(2, { nativeError: 'llama-bench failed: killed', nativeMissing: undefined }),
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
    const md = markdownSection(r, 'x.svg');
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
