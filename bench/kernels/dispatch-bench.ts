// Wall time of one decode-sized matmul (1 token) per weight shape of the 155M bench model, as a
// forward pass issues them: back to back, weights larger than the caches cycled so that each call
// streams its weights from memory. Shows what a dispatch costs next to the work it splits.
// usage: npx tsx bench/kernels/dispatch-bench.ts [threads]
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { randomF32, randomTensor, rng } from '../../test/backends/wasm/helpers.ts';

const threads = Number(process.argv[2] ?? 2);
const b = await createWasmBackend({ threads });
const r = rng(1);
const SHAPES: [string, GGMLType, number, number][] = [
  ['k 256x1024 q4_k', GGMLType.Q4_K, 1024, 256], ['q 1024x1024 q4_k', GGMLType.Q4_K, 1024, 1024],
  ['gate 2816x1024 q4_k', GGMLType.Q4_K, 1024, 2816], ['down 1024x2816 q6_k', GGMLType.Q6_K, 2816, 1024],
  ['out 32000x1024 q6_k', GGMLType.Q6_K, 1024, 32000],
];
for (const [name, type, cols, rows] of SHAPES) {
  const t = FORMAT_TRAITS.get(type)!;
  const bytes = randomTensor(t, rows, cols, r);
  const copies = Math.max(1, Math.ceil((32 << 20) / bytes.length));
  const ws = Array.from({ length: copies }, (_, i) => b.uploadWeight(`${name}${i}`, type, cols, rows, bytes));
  const x = b.alloc(cols);
  const out = b.alloc(rows);
  b.write(x, randomF32(cols, r));
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    b.matmul(ws[i % copies], x, out, 1);
    times.push(performance.now() - t0);
  }
  times.sort((p, q) => p - q);
  const med = times[times.length >> 1];
  console.log(`${name.padEnd(22)} median ${(med * 1000).toFixed(0).padStart(6)} µs  min ${(times[0] * 1000).toFixed(0).padStart(6)} µs  ${(bytes.length / med / 1e6).toFixed(2)} GB/s`);
}
console.log(`threads ${b.threads}, ${b.simd} SIMD`);
b.dispose();
