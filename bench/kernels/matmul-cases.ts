// The matmul microbenchmark's cases, shared by the Node (matmul-bench.ts) and Chromium
// (matmul-bench-browser.ts) runners: one ffn-sized matmul (2816 × 1024) per integer-path format,
// decode (1 token) and prefill (64 tokens), best of N runs of `clock` (ms).
import type { WasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { randomF32, randomTensor, rng } from '../../test/backends/wasm/helpers.ts';

const ROWS = 2816;
const COLS = 1024;
export const BENCH_TYPES: GGMLType[] = [GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q8_0, GGMLType.Q4_0];

/** One line per format: best time and GMAC/s at n = 1 and n = 64. */
export function matmulBench(b: WasmBackend, clock: () => number, types = BENCH_TYPES): string[] {
  const r = rng(1);
  const lines: string[] = [];
  for (const type of types) {
    const t = FORMAT_TRAITS.get(type)!;
    const w = b.uploadWeight(t.id, type, COLS, ROWS, randomTensor(t, ROWS, COLS, r));
    const line: string[] = [t.id.padEnd(5)];
    for (const n of [1, 64]) {
      const x = b.alloc(n * COLS);
      const out = b.alloc(n * ROWS);
      b.write(x, randomF32(n * COLS, r));
      let best = Infinity;
      for (let i = 0; i < (n === 1 ? 300 : 10); i++) {
        const t0 = clock();
        b.matmul(w, x, out, n);
        best = Math.min(best, clock() - t0);
      }
      line.push(`n=${n}: ${(best * 1000).toFixed(0).padStart(6)} µs ${((ROWS * COLS * n) / best / 1e6).toFixed(2).padStart(6)} GMAC/s`);
      b.free(x);
      b.free(out);
    }
    lines.push(line.join('   '));
  }
  return lines;
}
