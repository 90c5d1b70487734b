// Runs kernels over [0, total): directly on the calling thread, or split across a pool of workers
// that share the memory and wait on Atomics (see worker-loop.js for the protocol).
import { EngineError } from '../../shared/errors.ts';
import {
  ARGS_OFFSET, CHUNK, CLOSED, DONE, FAILED, GEN, KERNEL, MAX_ARGS, NARGS, NEXT, SCRATCH_BASE, SCRATCH_STRIDE, TOTAL,
  claimAndRun, nextTag, waitChange,
} from './worker-loop.js';
import { SplitVerdict } from './split-verdict.ts';

type Kernel = (...args: number[]) => unknown;

export interface WorkerHandle {
  terminate(): void;
}

/** Whether this thread may block in Atomics.wait (not on a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

function kernelError(cause: unknown): EngineError {
  return new EngineError('BACKEND', 'a WASM kernel failed (out-of-bounds access or a trap)', { cause });
}

export class KernelPool {
  readonly threads: number;
  private readonly ctl: Int32Array | undefined;
  private readonly f64: Float64Array | undefined;
  private readonly callArgs: number[] = [];
  private readonly blocking: boolean;
  private scratchBase = 0;
  private scratchStride = 0;
  /** per kernel, whether its ops pay for splitting (split-verdict.ts), made at its first split-worthy op */
  private readonly verdicts: (SplitVerdict | undefined)[] = [];

  /** control is the SharedArrayBuffer the workers were started with (absent when single-threaded). */
  constructor(private readonly fns: readonly Kernel[], private readonly workers: WorkerHandle[],
    control?: SharedArrayBuffer) {
    this.threads = workers.length + 1;
    if (control) {
      this.ctl = new Int32Array(control, 0, ARGS_OFFSET / 4);
      this.f64 = new Float64Array(control, ARGS_OFFSET, 18);
    }
    this.blocking = workers.length > 0 && canBlock();
  }

  /** Per-thread scratch: thread i gets [base + i·stride, base + (i+1)·stride). */
  setScratch(base: number, stride: number): void {
    this.scratchBase = base;
    this.scratchStride = stride;
    if (this.f64) {
      this.f64[SCRATCH_BASE] = base;
      this.f64[SCRATCH_STRIDE] = stride;
    }
  }

  /**
   * kernel(...args, begin, end, scratch) over [0, total) in grain-aligned pieces; work below
   * minParallel stays on the calling thread (waking workers costs more than it saves). work (≈
   * multiply-adds) weighs ops against each other when the pool judges whether splitting pays.
   */
  run(kernel: number, args: readonly number[], total: number, grain: number, minParallel: number, work = total): void {
    if (total <= 0) return;
    const ctl = this.ctl;
    if (!ctl || this.threads === 1 || total < minParallel) return this.runAlone(kernel, args, total);
    const verdict = (this.verdicts[kernel] ??= new SplitVerdict());
    if (verdict.solo()) {
      const t0 = performance.now();
      this.runAlone(kernel, args, total);
      const t1 = performance.now();
      verdict.noteSolo(t1 - t0, work, t1);
      return;
    }
    if (args.length > MAX_ARGS) throw new EngineError('BACKEND', `kernel ${kernel} takes more than ${MAX_ARGS} arguments`);
    const f64 = this.f64!;
    const gen = (Atomics.load(ctl, GEN) + 1) | 0;
    // close NEXT first: a late worker of the previous op must not claim with the new arguments
    Atomics.store(ctl, NEXT, nextTag(gen) | CLOSED);
    for (let i = 0; i < args.length; i++) f64[i] = args[i];
    ctl[KERNEL] = kernel;
    ctl[TOTAL] = total;
    // about four pieces per thread: small enough to balance fast and slow cores
    const chunk = Math.max(1, Math.ceil(total / (this.threads * 4 * grain))) * grain;
    ctl[CHUNK] = chunk;
    ctl[NARGS] = args.length;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, NEXT, nextTag(gen));
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    const a = this.callArgs;
    for (let i = 0; i < args.length; i++) a[i] = args[i];
    const pieces = Math.ceil(total / chunk);
    const t0 = performance.now();
    const mine = claimAndRun(ctl, this.fns[kernel], a, args.length, this.scratchBase, gen);
    const t1 = performance.now();
    this.waitForPieces(ctl, pieces);
    if (Atomics.exchange(ctl, FAILED, 0) !== 0) throw kernelError(undefined);
    const t2 = performance.now();
    if (mine > 0) verdict.noteSplit(((t1 - t0) * pieces) / mine - (t2 - t0), t2 - t0, work, t2);
  }

  private runAlone(kernel: number, args: readonly number[], total: number): void {
    try {
      this.call(kernel, args, 0, total, this.scratchBase);
    } catch (e) {
      throw kernelError(e);
    }
  }

  dispose(): void {
    if (this.ctl && this.workers.length > 0) {
      Atomics.store(this.ctl, KERNEL, -1);
      Atomics.add(this.ctl, GEN, 1);
      Atomics.notify(this.ctl, GEN);
    }
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }

  private call(kernel: number, args: readonly number[], begin: number, end: number, scratch: number): void {
    const a = this.callArgs;
    a.length = 0;
    for (let i = 0; i < args.length; i++) a.push(args[i]);
    a.push(begin, end, scratch);
    this.fns[kernel].apply(undefined, a);
  }

  /** Until every piece is done: workers that never woke up hold nothing back. */
  private waitForPieces(ctl: Int32Array, pieces: number): void {
    for (let done = Atomics.load(ctl, DONE); done < pieces; done = Atomics.load(ctl, DONE)) {
      waitChange(ctl, DONE, done, this.blocking);
    }
  }
}
