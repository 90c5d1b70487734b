// Types for worker-loop.js (plain JS so that Node's worker_threads can load it directly).

export const GEN: number;
export const DONE: number;
export const KERNEL: number;
export const TOTAL: number;
export const CHUNK: number;
export const NARGS: number;
export const NEXT: number;
export const FAILED: number;
export const ARGS_OFFSET: number;
export const MAX_ARGS: number;
export const SCRATCH_BASE: number;
export const SCRATCH_STRIDE: number;
export const CONTROL_BYTES: number;
export const SPIN_MS: number;
export const CLOSED: number;

export function nextTag(gen: number): number;

/** What a worker needs: the compiled kernels, the shared memory and the control block. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  tid: number;
  names: string[];
}

export function waitChange(ctl: Int32Array, i: number, value: number, canBlock: boolean): void;
export function claimAndRun(ctl: Int32Array, fn: (...args: number[]) => unknown, args: number[], nArgs: number,
  scratch: number, gen: number): number;
export function runWorker(init: WorkerInit, ready: () => void): void;
