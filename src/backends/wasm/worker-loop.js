// Kernel worker loop, shared by node-worker.js and browser-worker.js. Plain JS (with
// worker-loop.d.ts) because Node 20 worker_threads cannot load TypeScript.
// Protocol (no message per op): the caller writes a kernel index and its arguments into a small
// SharedArrayBuffer, resets NEXT, bumps GEN and notifies. Every thread (caller included) then
// claims CHUNK-sized pieces of [0, TOTAL) from NEXT until none are left — fast cores take more
// pieces, which matters on big.LITTLE CPUs — and workers bump DONE. KERNEL = -1 asks them to exit.

export const GEN = 0;
export const DONE = 1;
export const KERNEL = 2;
export const TOTAL = 3;
export const CHUNK = 4;
export const NARGS = 5;
export const NEXT = 6;
export const FAILED = 7;
/** Float64 slots after the Int32 header: kernel arguments, then the scratch base and stride. */
export const ARGS_OFFSET = 64;
export const MAX_ARGS = 14;
export const SCRATCH_BASE = 14;
export const SCRATCH_STRIDE = 15;
export const CONTROL_BYTES = ARGS_OFFSET + 16 * 8;
/** Polls of a control word before sleeping in Atomics.wait: ops of one forward pass come back to
 *  back, and a futex wake-up costs more than a few microseconds of polling. */
export const SPIN = 20000;

/** Returns once ctl[i] !== value: polls SPIN times, then sleeps (when this thread may block). */
export function waitChange(ctl, i, value, canBlock) {
  for (let n = 0; n < SPIN; n++) if (Atomics.load(ctl, i) !== value) return;
  while (Atomics.load(ctl, i) === value) if (canBlock) Atomics.wait(ctl, i, value);
}

/** Runs fn(...args[0..nArgs), begin, end, scratch) on pieces claimed from NEXT until TOTAL is covered. */
export function claimAndRun(ctl, fn, args, nArgs, scratch) {
  const total = ctl[TOTAL];
  const chunk = ctl[CHUNK];
  args.length = nArgs + 3;
  args[nArgs + 2] = scratch;
  for (;;) {
    const begin = Atomics.add(ctl, NEXT, chunk);
    if (begin >= total) return;
    args[nArgs] = begin;
    args[nArgs + 1] = Math.min(total, begin + chunk);
    fn.apply(undefined, args);
  }
}

/**
 * Instantiates the kernels on the shared memory, calls ready(), then serves ops until told to
 * exit. init: { module, memory, control, tid, names }.
 */
export function runWorker(init, ready) {
  const { exports } = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const fns = init.names.map((n) => exports[n]);
  const ctl = new Int32Array(init.control, 0, ARGS_OFFSET / 4);
  const f64 = new Float64Array(init.control, ARGS_OFFSET, 16);
  const args = [];
  let seen = 0;
  ready();
  for (;;) {
    waitChange(ctl, GEN, seen, true);
    seen = Atomics.load(ctl, GEN);
    const kernel = ctl[KERNEL];
    if (kernel < 0) return;
    const n = ctl[NARGS];
    for (let i = 0; i < n; i++) args[i] = f64[i];
    try {
      claimAndRun(ctl, fns[kernel], args, n, f64[SCRATCH_BASE] + init.tid * f64[SCRATCH_STRIDE]);
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
