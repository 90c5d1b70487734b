// Kernel microbenchmark: one ffn-sized matmul (2816 × 1024) per format, decode (1 token) and
// prefill (64 tokens), best of N runs. With 1 thread the time is the process's CPU time, which a
// busy shared machine does not inflate; with more it is wall time.
// usage: npx tsx bench/kernels/matmul-bench.ts [threads] [plain|relaxed] [int8|f32]
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { randomF32, randomTensor, rng } from '../../test/backends/wasm/helpers.ts';

const threads = Number(process.argv[2] ?? 1);
const relaxed = (process.argv[3] ?? 'relaxed') === 'relaxed';
const int8 = (process.argv[4] ?? 'int8') === 'int8';
const ROWS = 2816;
const COLS = 1024;

const b = await createWasmBackend({ threads, relaxedSimd: relaxed, int8Matmul: int8 });
const r = rng(1);
for (const type of [GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q8_0, GGMLType.Q4_0]) {
  const t = FORMAT_TRAITS.get(type)!;
  const w = b.uploadWeight(t.id, type, COLS, ROWS, randomTensor(t, ROWS, COLS, r));
  const line: string[] = [t.id.padEnd(5)];
  for (const n of [1, 64]) {
    const x = b.alloc(n * COLS);
    const out = b.alloc(n * ROWS);
    b.write(x, randomF32(n * COLS, r));
    let best = Infinity;
    const reps = n === 1 ? 300 : 10;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      b.matmul(w, x, out, n);
      const c = process.cpuUsage(c0);
      best = Math.min(best, threads === 1 ? (c.user + c.system) / 1000 : performance.now() - t0);
    }
    line.push(`n=${n}: ${(best * 1000).toFixed(0).padStart(6)} µs ${((ROWS * COLS * n) / best / 1e6).toFixed(2).padStart(6)} GMAC/s`);
    b.free(x);
    b.free(out);
  }
  console.log(line.join('   '));
}
console.log(`threads ${b.threads}, ${b.simd} SIMD, ${int8 ? 'int8' : 'f32'} path`);
b.dispose();
