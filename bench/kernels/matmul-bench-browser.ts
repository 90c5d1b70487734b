// The matmul microbenchmark (matmul-cases.ts) in headless Chromium, wall time.
// usage: npx tsx bench/kernels/matmul-bench-browser.ts [threads] [plain|relaxed]
import { openBrowser } from '../../test/browser/harness.ts';

const threads = Number(process.argv[2] ?? 1);
const relaxed = (process.argv[3] ?? 'relaxed') === 'relaxed';
const h = await openBrowser({ timeoutMs: 5 * 60_000 });
try {
  for (const line of await h.run<string[]>('bench/kernels/matmul-page.ts', 'bench', threads, relaxed)) console.log(line);
} finally {
  await h.close();
}
