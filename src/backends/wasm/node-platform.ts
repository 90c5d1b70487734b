// Node: kernels read from disk, workers on worker_threads.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../../shared/errors.ts';
import { kernelFile, validatesRelaxedSimd, type WasmPlatform } from './platform.ts';
import type { WorkerHandle } from './thread-pool.ts';
import type { WorkerInit } from './worker-loop.js';

let live = 0;

/** Kernel workers started and not yet exited (for tests: dispose must leave none). */
export function liveWorkerCount(): number {
  return live;
}

function spawnWorker(init: WorkerInit): Promise<WorkerHandle> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./node-worker.js', import.meta.url), { workerData: init });
    live++;
    w.once('exit', (code) => {
      live--;
      // no-op once ready; before that, a worker that just exits would otherwise hang the caller
      reject(new EngineError('BACKEND', `a WASM worker exited (code ${code}) before it was ready`));
    });
    w.once('error', (e) => reject(new EngineError('BACKEND', `a WASM worker failed to start: ${e.message}`, { cause: e })));
    w.once('message', () => {
      // an undisposed backend must not keep the process alive; but only unref once ready, or an
      // otherwise idle event loop would exit while the worker is still starting
      w.unref();
      resolve({ terminate: () => void w.terminate() });
    });
  });
}

export const nodePlatform: WasmPlatform = {
  async loadModule(threaded, relaxed = false) {
    const url = new URL(`./build/${kernelFile(threaded, relaxed)}`, import.meta.url);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(await readFile(url));
    } catch (e) {
      throw new EngineError('BACKEND', `WASM kernels not found at ${url.pathname}: run \`npm run build:wasm\``, { cause: e });
    }
    return WebAssembly.compile(bytes);
  },
  spawnWorker,
  hardwareThreads: () => availableParallelism(),
  relaxedSimd() {
    // Node 20's V8 has relaxed SIMD behind a flag (on by default from Node 22); the flag is
    // process-wide, so workers see it too
    if (!validatesRelaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');
    return validatesRelaxedSimd();
  },
};
