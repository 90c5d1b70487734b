// Page side of matmul-bench-browser.ts: the matmul microbenchmark on the page's main thread.
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { matmulBench } from './matmul-cases.ts';

export async function bench(threads: number, relaxed: boolean): Promise<string[]> {
  const b = await createWasmBackend({ threads, relaxedSimd: relaxed });
  try {
    return [...matmulBench(b, () => performance.now()), `threads ${b.threads}, ${b.simd} SIMD, Chromium`];
  } finally {
    b.dispose();
  }
}
