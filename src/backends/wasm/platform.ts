// What differs between Node and browsers: how the .wasm is loaded and how workers start.
// The implementations live in node-platform.ts and browser-platform.ts.
import type { WorkerHandle } from './thread-pool.ts';
import type { WorkerInit } from './worker-loop.js';

export interface WasmPlatform {
  /** The compiled kernels: the shared-memory build when threaded, else the plain one; the
   *  relaxed-SIMD variant when `relaxed` (only ask when relaxedSimdSupported()). */
  loadModule(threaded: boolean, relaxed?: boolean): Promise<WebAssembly.Module>;
  /** Whether this engine runs relaxed SIMD (may switch it on where that takes a flag). */
  relaxedSimd(): boolean;
  /** Starts one kernel worker; resolves once it has instantiated the module. */
  spawnWorker(init: WorkerInit): Promise<WorkerHandle>;
  /** Logical CPU count, the default thread count. */
  hardwareThreads(): number;
}

/** A function returning i16x8.relaxed_dot_i8x16_i7x16_s of two zero vectors. */
const RELAXED_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
  0x0a, 0x2b, 1, 0x29, 0, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0xfd, 0x0c, ...new Array<number>(16).fill(0),
  0xfd, 0x92, 0x02, 0x0b]);

/** Whether WebAssembly here validates relaxed SIMD. */
export function validatesRelaxedSimd(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

/** File name of a kernel build. */
export function kernelFile(threaded: boolean, relaxed: boolean): string {
  return `kernels${threaded ? '' : '-st'}${relaxed ? '-relaxed' : ''}.wasm`;
}

/** Kept out of browser bundles: a specifier the bundler does not follow. */
const NODE_PLATFORM = './node-platform.ts';

export async function defaultPlatform(): Promise<WasmPlatform> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (isNode) return ((await import(/* @vite-ignore */ NODE_PLATFORM)) as typeof import('./node-platform.ts')).nodePlatform;
  return (await import('./browser-platform.ts')).browserPlatform;
}
