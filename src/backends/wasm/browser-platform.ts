// Browsers: kernels fetched next to this module (Vite resolves the URLs), module Web Workers.
import { EngineError } from '../../shared/errors.ts';
import { kernelFile, validatesRelaxedSimd, type WasmPlatform } from './platform.ts';
import type { WorkerHandle } from './thread-pool.ts';
import type { WorkerInit } from './worker-loop.js';

async function compile(url: URL): Promise<WebAssembly.Module> {
  const res = await fetch(url);
  if (!res.ok) throw new EngineError('BACKEND', `could not load WASM kernels from ${url} (HTTP ${res.status})`);
  return WebAssembly.compile(await res.arrayBuffer());
}

function spawnWorker(init: WorkerInit): Promise<WorkerHandle> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./browser-worker.js', import.meta.url), { type: 'module' });
    w.onerror = (e) => reject(new EngineError('BACKEND', `a WASM worker failed to start: ${e.message}`));
    w.onmessage = () => resolve({ terminate: () => w.terminate() });
    w.postMessage(init);
  });
}

export const browserPlatform: WasmPlatform = {
  // literal URLs so that bundlers see (and copy) every build
  loadModule: (threaded, relaxed = false) => compile({
    'kernels.wasm': new URL('./build/kernels.wasm', import.meta.url),
    'kernels-st.wasm': new URL('./build/kernels-st.wasm', import.meta.url),
    'kernels-relaxed.wasm': new URL('./build/kernels-relaxed.wasm', import.meta.url),
    'kernels-st-relaxed.wasm': new URL('./build/kernels-st-relaxed.wasm', import.meta.url),
  }[kernelFile(threaded, relaxed)]!),
  relaxedSimd: validatesRelaxedSimd,
  spawnWorker,
  hardwareThreads: () => navigator.hardwareConcurrency || 1,
};
