// Context shift on the WebGPU backend (SwiftShader here) against llama.cpp's own shift: the
// kv-shift kernel moves the kept rows (round the ring of a sliding layer) and turns the keys.
// Compared on the probability of each next token (ln ppl) and of llama.cpp's 32 likeliest tokens.
import { readFileSync } from 'node:fs';
import { LlamaLogLevel, getLlama, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTokenizer } from '../../src/engine/load.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { llamaAcrossShift } from '../engine/llama-shift.ts';
import { fixture } from '../fixtures.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

const PAGE = 'test/browser/pages/model-page.ts';
const text = readFileSync(fixture('arch', 'long.txt'), 'utf8') + readFileSync(fixture('quant', 'sample.txt'), 'utf8');
let h: BrowserHarness;
let llama: Llama;
beforeAll(async () => {
  h = await openBrowser({ timeoutMs: 120_000 });
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
});
afterAll(async () => { await h?.close(); await llama?.dispose(); });

describe('WebGPU context shift matches llama.cpp', () => {
  // llama32: every layer full; gemma3 at 256: five sliding layers on rings of 127 slots
  // q8_0 against llama.cpp's f16 shift: llama.cpp de3ff815 aborts in the K-shift of a quantized cache
  const cases: [string, number, 'f32' | 'f16' | 'q8_0'][] = [['dev-llama32.Q8_0.gguf', 128, 'f16'], ['dev-llama32.Q8_0.gguf', 128, 'f32'],
    ['dev-gemma3.Q8_0.gguf', 256, 'f16'], ['dev-qwen3.Q8_0.gguf', 128, 'q8_0']];
  for (const [name, nCtx, kvType] of cases) {
    it(`${name}, context ${nCtx}, ${kvType} cache`, { timeout: 300_000 }, async () => {
      const file = fixture('arch', name);
      const { file: f, tokenizer: t } = await openTokenizer(await openNodeFiles(file));
      await f.close();
      const ids = [...(t.addBos && t.bosId !== null ? [t.bosId] : []), ...t.encode(text)].slice(0, nCtx + 17);
      const keep = 4, V = t.vocabSize;
      const ref = await llamaAcrossShift(llama, file, ids.slice(0, -1), nCtx, keep, V);
      const top = ref.map((p) => [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, 32));
      const url = h.fixtureUrl('arch', name);
      type R = { pNext: number[]; probe: number[][] };
      const ours = await h.run<R>(PAGE, 'acrossShift', url, ids, nCtx, keep, kvType, 'exact', top);
      const wrong = await h.run<R>(PAGE, 'acrossShift', url, ids, nCtx, keep, kvType, 'none', top);
      const lnPpl = (p: number[]) => -p.reduce((s, x) => s + Math.log(x), 0) / p.length;
      const refNext = ref.map((p, i) => p[ids[nCtx + i + 1]]);
      // mean |Δ ln p| over llama.cpp's 32 likeliest tokens at each position (scale-free: these
      // random-weight vocabularies spread their mass thinly)
      const dist = (r: R) => r.probe.reduce((s, row, i) => s + row.reduce((u, x, j) => u + Math.abs(Math.log(x / ref[i][top[i][j]])), 0) / row.length, 0) / top.length;
      const delta = Math.abs(lnPpl(ours.pNext) - lnPpl(refNext));
      console.log(`${name} ${kvType} on WebGPU: after the shift |Δ ln ppl| ${delta.toFixed(4)}, mean |Δ ln p| on llama.cpp's top 32 ` +
        `${dist(ours).toFixed(4)} (keys not turned: ${dist(wrong).toFixed(4)})`);
      expect(delta).toBeLessThanOrEqual(0.02);
      expect(dist(wrong)).toBeGreaterThan(3 * dist(ours));
    });
  }
});
