// Page side of browser.test.ts: the WASM backend in Chromium, on the page's main thread (which may
// not block, so the pool spins) and inside a module Web Worker (as the engine runs it).
import { createWasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { dequant, randomF32, randomTensor, refMatmul, relErr, rng, roundActs } from './helpers.ts';

export interface BrowserResult { threads: number; isolated: boolean; simd: string; err: number }

/** A Q4_K matmul (integer path) over 7 tokens vs the scalar reference on 8-bit rounded activations. */
export async function matmulCheck(threads: number): Promise<BrowserResult> {
  const b = await createWasmBackend({ threads, parallelThreshold: 0 });
  try {
    const t = FORMAT_TRAITS.get(GGMLType.Q4_K)!;
    const r = rng(threads);
    const rows = 29;
    const cols = 512;
    const bytes = randomTensor(t, rows, cols, r);
    const w = b.uploadWeight('w', t.type, cols, rows, bytes);
    const xf = randomF32(7 * cols, r);
    const x = b.alloc(xf.length);
    const out = b.alloc(7 * rows);
    b.write(x, xf);
    b.matmul(w, x, out, 7);
    const err = relErr(await b.read(out, 0, 7 * rows), refMatmul(dequant(t, bytes, rows * cols), roundActs(xf, 256), rows, cols, 7));
    return { threads: b.threads, isolated: crossOriginIsolated, simd: b.simd, err };
  } finally {
    b.dispose();
  }
}

/** The same check inside a module Web Worker. */
export function matmulCheckInWorker(threads: number): Promise<BrowserResult> {
  const w = new Worker(new URL('./browser-page-worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<BrowserResult | { error: string }>) => {
      w.terminate();
      if ('error' in e.data) reject(new Error(e.data.error));
      else resolve(e.data);
    };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(threads);
  });
}
