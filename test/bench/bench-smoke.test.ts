// The bench pipeline end to end on a tiny model, one run: both browser engines load the same GGUF, each in
// a fresh Chromium, and time the same prompt (wllama's own count of prompt tokens must equal ours), native
// llama-bench (scripts/build-llama-cpp.sh) times the same counts, the
// bandwidth kernel runs on two workers, and the report renders. No timing assertions: speed is the
// benchmark's business, never a test's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserHarness } from '../browser/harness.ts';
import { benchCell, bytesPerToken, pairedRatio, PAGE, randomPrompt, tokenizerOf } from '../../bench/measure.ts';
import { familyRows, markdownSection, svgChart, textTable, updateReadme, type BenchResults } from '../../bench/report.ts';
import { streamKernel } from '../../bench/page/memory-bandwidth.ts';
import { fixture } from '../fixtures.ts';

const MODEL = fixture('quant', 'dev-llama.Q4_K_M.gguf');

describe('bench pipeline', () => {
  let h: BrowserHarness;
  beforeAll(async () => { h = await openBrowser({ timeoutMs: 60_000 }); });
  afterAll(async () => { await h?.close(); });

  it('runs both engines on the same prompt and renders the report', async () => {
    const cell = await benchCell(() => openBrowser({ timeoutMs: 60_000 }), MODEL, { threads: 2, runs: 1, promptTokens: 24, genTokens: 4, node: true, native: true });
    expect(cell.wllamaError).toBeUndefined();
    for (const e of [cell.ours, cell.wllama!]) {
      expect(e.runs).toHaveLength(1);
      expect(e.prefillTokPerSec).toBeGreaterThan(0);
      expect(Number.isFinite(e.decodeTokPerSec) && e.decodeTokPerSec > 0).toBe(true);
    }
    expect(cell.ours.peakMemoryBytes).toBeGreaterThan(1 << 20);
    expect(cell.node!.prefillTokPerSec).toBeGreaterThan(0); // cli bench in Node, in the same runs
    expect(cell.node!.decodeTokPerSec).toBeGreaterThan(0);
    expect(cell.nativeError).toBeUndefined(); // llama-bench, in the same runs
    expect(cell.native!.runs).toHaveLength(1);
    expect(cell.native!.prefillTokPerSec).toBeGreaterThan(0);
    expect(cell.native!.decodeTokPerSec).toBeGreaterThan(0);
    const bpt = await bytesPerToken(MODEL, 26);
    const r: BenchResults = {
      date: '2000-01-01', quick: true, environment: { userAgent: 'HeadlessChrome/1.0', cores: 2, node: 'v0', isolated: true },
      settings: { promptTokens: 24, genTokens: 4, runs: 1 }, bandwidth: { 1: 1e9 },
      cells: [{ ...cell, model: 'dev-llama', quant: 'Q4_K_M', fileBytes: 1, bytesPerToken: bpt, rooflineTokPerSec: 1e9 / bpt }],
    };
    expect(textTable(r).split('\n')).toHaveLength(2);
    // a cell wllama could not run still reports ours, and says why in the README
    const failed: BenchResults = { ...r, cells: [...r.cells, { ...r.cells[0], threads: 1, wllama: undefined, wllamaError: 'out of memory' }] };
    expect(textTable(failed).split('\n')[2]).toMatch(/dev-llama\s+Q4_K_M\s+1\s+[\d.]+\s+failed\s+[\d.]+\s+–\s+[\d.]+×\s+[\d.]+\s+failed\s+[\d.]+\s+–\s+[\d.]+×/);
    expect(markdownSection(failed, 'x.svg')).toContain('wllama failed on dev-llama Q4_K_M 1T: out of memory');
    // "median of" counts each model's own runs (the 1B shape runs fewer times)
    expect(markdownSection(r, 'x.svg')).toContain('median of 1:');
    const big = { ...r.cells[0], model: 'big', ours: { ...r.cells[0].ours, runs: [0, 1, 2].map(() => cell.ours.runs[0]) } };
    expect(markdownSection({ ...r, cells: [...r.cells, big] }, 'x.svg')).toContain('median of 1 (big: 3):');
    // each family's decode beside Llama's at the same shape, quant and threads
    const at155 = (model: string, decode: number) => ({ ...r.cells[0], model, ours: { ...r.cells[0].ours, decodeTokPerSec: decode } });
    const fam = { ...r, cells: [at155('llama-155m', 50), at155('qwen3-155m', 45), at155('gemma3-155m', 40)] };
    expect(familyRows(fam).slice(1).map((row) => [row[0], row[5]])).toEqual([['qwen3-155m', '0.90×'], ['gemma3-155m', '0.80×']]);
    expect(markdownSection(fam, 'x.svg')).toContain('| qwen3-155m | Q4_K_M | 2 | 45.0 | 50.0 | 0.90× | 1.00× | – | – |');
    const withPairs = { ...fam, families: [{ model: 'qwen3-155m', quant: 'Q4_K_M', threads: 2, decodeRatio: 0.97, prefillRatio: 0.93, pairs: 6 }] };
    expect(familyRows(withPairs)[1].slice(7)).toEqual(['0.97×', '0.93×']);
    expect(svgChart(r)).toMatch(/^<svg[\s\S]*<rect[\s\S]*<\/svg>\n$/);
    const readme = updateReadme('# x\n\n## Usage\n\nu\n\n## Credits\n\nc\n', markdownSection(r, '2000-01-01.svg'));
    expect(readme).toMatch(/## Usage\n\nu\n\n## Benchmarks\n[\s\S]*\| dev-llama \| Q4_K_M \| 2 \|[\s\S]*\n## Credits\n\nc\n$/);
    expect(updateReadme(readme, '## Benchmarks\n\nnew\n')).toBe('# x\n\n## Usage\n\nu\n\n## Benchmarks\n\nnew\n## Credits\n\nc\n');
  });

  it('paired Node runs give a family ÷ base ratio per pair (ABBA order)', async () => {
    const lines: string[] = [];
    const r = await pairedRatio(fixture('arch', 'dev-qwen3.Q8_0.gguf'), MODEL, { threads: 1, runs: 1, promptTokens: 8, genTokens: 4 },
      2, (s) => lines.push(s));
    expect(r.pairs).toBe(2);
    expect(lines).toHaveLength(2);
    for (const x of [r.decode, r.prefill]) expect(Number.isFinite(x) && x > 0).toBe(true);
  });

  it('bandwidth kernel: a valid module, measured on two workers', async () => {
    expect(WebAssembly.validate(streamKernel(16) as Uint8Array<ArrayBuffer>)).toBe(true);
    expect(await h.run<number>(PAGE, 'bandwidth', 2, 32)).toBeGreaterThan(0);
  });

  it('prompts have exactly the asked number of tokens, BOS included', async () => {
    const t = await tokenizerOf(MODEL);
    for (const seed of [1, 2, 3]) {
      const p = randomPrompt(t, 40, seed);
      expect(p.ids).toHaveLength(40);
      expect([t.bosId, ...t.encode(p.text, { parseSpecial: true })]).toEqual(p.ids);
    }
  });
});
