// Kernel microbenchmark in Node (matmul-cases.ts). With 1 thread the time is the process's CPU
// time, which a busy shared machine inflates less; with more it is wall time.
// usage: npx tsx bench/kernels/matmul-bench.ts [threads] [plain|relaxed] [int8|f32]
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { matmulBench } from './matmul-cases.ts';

const threads = Number(process.argv[2] ?? 1);
const relaxed = (process.argv[3] ?? 'relaxed') === 'relaxed';
const int8 = (process.argv[4] ?? 'int8') === 'int8';

const b = await createWasmBackend({ threads, relaxedSimd: relaxed, int8Matmul: int8 });
const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (const line of matmulBench(b, threads === 1 ? cpuMs : () => performance.now())) console.log(line);
console.log(`threads ${b.threads}, ${b.simd} SIMD, ${int8 ? 'int8' : 'f32'} path, Node ${process.version}`);
b.dispose();
