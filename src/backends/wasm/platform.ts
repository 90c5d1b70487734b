// What differs between Node and browsers: how the .wasm is loaded and how workers start.
// The implementations live in node-platform.ts and browser-platform.ts.
import type { WorkerHandle } from './thread-pool.ts';
import type { WorkerInit } from './worker-loop.js';

export interface WasmPlatform {
  /** The compiled kernels: the shared-memory build when threaded, else the plain one. */
  loadModule(threaded: boolean): Promise<WebAssembly.Module>;
  /** Starts one kernel worker; resolves once it has instantiated the module. */
  spawnWorker(init: WorkerInit): Promise<WorkerHandle>;
  /** Logical CPU count, the default thread count. */
  hardwareThreads(): number;
}

/** Kept out of browser bundles: a specifier the bundler does not follow. */
const NODE_PLATFORM = './node-platform.ts';

export async function defaultPlatform(): Promise<WasmPlatform> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (isNode) return ((await import(/* @vite-ignore */ NODE_PLATFORM)) as typeof import('./node-platform.ts')).nodePlatform;
  return (await import('./browser-platform.ts')).browserPlatform;
}
