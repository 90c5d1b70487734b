// Ours vs wllama in headless Chromium on the harness's 155M bench models (bench/models/), using
// bench/measure.ts, without writing bench/results or the README (the harness owns those).
// usage: npx tsx bench/kernels/side-by-side.ts [runs] [quants, e.g. Q4_K_M,Q8_0] [threads, e.g. 1,2]
import { openBrowser } from '../../test/browser/harness.ts';
import { modelPath, SHAPES } from '../make-models.ts';
import { benchCell, PAGE } from '../measure.ts';

const runs = Number(process.argv[2] ?? 1);
const quants = (process.argv[3] ?? 'Q4_K_M,Q8_0').split(',');
const threadCounts = (process.argv[4] ?? '1,2').split(',').map(Number);
const open = () => openBrowser({ timeoutMs: 15 * 60_000 });
const h = await open();
try {
  const env = await h.run<{ isolated: boolean }>(PAGE, 'environment');
  if (!env.isolated) throw new Error('bench page not cross-origin isolated');
} finally {
  await h.close();
}
for (const q of quants) {
  for (const threads of threadCounts) {
    const c = await benchCell(open, modelPath(SHAPES[0], q), { threads, runs, promptTokens: 128, genTokens: 64 });
    const f = (s?: { prefillTokPerSec: number; decodeTokPerSec: number }) => (s ? `${s.prefillTokPerSec.toFixed(1)} / ${s.decodeTokPerSec.toFixed(1)}` : 'failed');
    console.log(`${q} t${threads} ours ${f(c.ours)}  wllama ${f(c.wllama)}  (prefill / decode tok/s, median of ${runs})`);
  }
}
