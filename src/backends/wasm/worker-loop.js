// Kernel worker loop, shared by node-worker.js and browser-worker.js. Plain JS (with
// worker-loop.d.ts) because Node 20 worker_threads cannot load TypeScript.
// Protocol (no message per op): the caller writes a kernel index and its arguments into a small
// SharedArrayBuffer, opens NEXT for the new generation, bumps GEN and notifies. Every thread
// (caller included) then claims CHUNK-sized pieces of [0, TOTAL) from NEXT until none are left —
// fast cores take more pieces, which matters on big.LITTLE CPUs — and counts finished pieces in
// DONE. The caller waits for the pieces, not for the workers: a worker that wakes late (or is
// descheduled on a busy machine) finds nothing left to claim and costs the op nothing.
// NEXT packs the generation (high 16 bits) with the next piece index (low 16), so a late worker
// can never claim a piece of a newer op with the arguments of an older one: the caller closes
// NEXT under the new generation before it rewrites the arguments. KERNEL = -1 asks workers to exit.

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
export const MAX_ARGS = 16;
export const SCRATCH_BASE = 16;
export const SCRATCH_STRIDE = 17;
export const CONTROL_BYTES = ARGS_OFFSET + 18 * 8;
/** Milliseconds a thread polls a control word before sleeping in Atomics.wait. The ops of a
 *  forward pass (and consecutive decode steps) come back to back, tens of microseconds apart,
 *  while a futex wake-up costs 50-200 µs on a VM: a thread that slept between two ops would join
 *  the next one too late to help. Idle threads still sleep once a pass is over. */
export const SPIN_MS = 4;
/** Piece index that is never claimable (pieces per op stay far below it). */
export const CLOSED = 0xffff;

/** NEXT value for piece 0 of generation gen. */
export function nextTag(gen) {
  return (gen & 0xffff) << 16;
}

/** Returns once ctl[i] !== value: polls for SPIN_MS, then sleeps (when this thread may block). */
export function waitChange(ctl, i, value, canBlock) {
  if (Atomics.load(ctl, i) !== value) return;
  const end = performance.now() + SPIN_MS;
  do {
    for (let n = 0; n < 1024; n++) if (Atomics.load(ctl, i) !== value) return;
  } while (performance.now() < end);
  while (Atomics.load(ctl, i) === value) if (canBlock) Atomics.wait(ctl, i, value);
}

/**
 * Runs fn(...args[0..nArgs), begin, end, scratch) on pieces of generation gen claimed from NEXT
 * until none are left. Returns how many pieces this thread ran (a piece that threw counts, and
 * sets FAILED).
 */
export function claimAndRun(ctl, fn, args, nArgs, scratch, gen) {
  const total = ctl[TOTAL];
  const chunk = ctl[CHUNK];
  const pieces = Math.ceil(total / chunk);
  const tag = nextTag(gen);
  args.length = nArgs + 3;
  args[nArgs + 2] = scratch;
  let ran = 0;
  for (;;) {
    const cur = Atomics.load(ctl, NEXT);
    const piece = cur & 0xffff;
    if ((cur & ~0xffff) !== tag || piece >= pieces) return ran;
    if (Atomics.compareExchange(ctl, NEXT, cur, cur + 1) !== cur) continue;
    args[nArgs] = piece * chunk;
    args[nArgs + 1] = Math.min(total, (piece + 1) * chunk);
    try {
      fn.apply(undefined, args);
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    ran++;
    if (Atomics.add(ctl, DONE, 1) + 1 === pieces) Atomics.notify(ctl, DONE);
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
  const f64 = new Float64Array(init.control, ARGS_OFFSET, 18);
  const args = [];
  let seen = Atomics.load(ctl, GEN);
  ready();
  for (;;) {
    waitChange(ctl, GEN, seen, true);
    seen = Atomics.load(ctl, GEN);
    const kernel = ctl[KERNEL];
    if (kernel < 0) return;
    const n = ctl[NARGS];
    for (let i = 0; i < n; i++) args[i] = f64[i];
    claimAndRun(ctl, fns[kernel], args, n, f64[SCRATCH_BASE] + init.tid * f64[SCRATCH_STRIDE], seen);
  }
}
