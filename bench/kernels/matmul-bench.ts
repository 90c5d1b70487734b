// Kernel microbenchmark in Node (matmul-cases.ts). With 1 thread the time is the process's CPU
// time, which a busy shared machine inflates less; with more it is wall time.
// usage: npx tsx bench/kernels/matmul-bench.ts [threads] [plain|relaxed] [int8|f32] [types, e.g. Q5_K,Q3_K]
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { BENCH_TYPES, matmulBench } from './matmul-cases.ts';

const threads = Number(process.argv[2] ?? 1);
const relaxed = (process.argv[3] ?? 'relaxed') === 'relaxed';
const int8 = (process.argv[4] ?? 'int8') === 'int8';
const types = process.argv[5] ? process.argv[5].split(',').map((n) => GGMLType[n as keyof typeof GGMLType]) : BENCH_TYPES;

const b = await createWasmBackend({ threads, relaxedSimd: relaxed, int8Matmul: int8 });
const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (const line of matmulBench(b, threads === 1 ? cpuMs : () => performance.now(), types)) console.log(line);
console.log(`threads ${b.threads}, ${b.simd} SIMD, ${int8 ? 'int8' : 'f32'} path, Node ${process.version}`);
b.dispose();
