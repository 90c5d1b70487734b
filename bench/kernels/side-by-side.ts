// Ours vs wllama in headless Chromium on the harness's 155M bench models (bench/models/), using
// bench/measure.ts, without writing bench/results or the README (the harness owns those).
// usage: npx tsx bench/kernels/side-by-side.ts [runs]
import { openBrowser } from '../../test/browser/harness.ts';
import { modelPath, SHAPES } from '../make-models.ts';
import { benchCell, PAGE } from '../measure.ts';

const runs = Number(process.argv[2] ?? 1);
const h = await openBrowser({ timeoutMs: 15 * 60_000 });
try {
  const env = await h.run<{ isolated: boolean }>(PAGE, 'environment');
  if (!env.isolated) throw new Error('bench page not cross-origin isolated');
  for (const q of ['Q4_K_M', 'Q8_0']) {
    for (const threads of [1, 2]) {
      const c = await benchCell(h, modelPath(SHAPES[0], q), { threads, runs, promptTokens: 128, genTokens: 64 });
      console.log(`${q} t${threads} ${JSON.stringify(c)}`);
    }
  }
} finally {
  await h.close();
}
