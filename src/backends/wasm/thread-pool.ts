// Runs kernels over [0, total): directly on the calling thread, or split across a pool of workers
// that share the memory and wait on Atomics (see worker-loop.js for the protocol).
import { EngineError } from '../../shared/errors.ts';
import {
  ARGS_OFFSET, CHUNK, CLOSED, DONE, FAILED, GEN, KERNEL, MAX_ARGS, NARGS, NEXT, SCRATCH_BASE, SCRATCH_STRIDE, TOTAL,
  claimAndRun, nextTag, waitChange,
} from './worker-loop.js';

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

/** Split ops per verdict on whether splitting pays (see noteSplit). */
const WINDOW = 64;
/** How long ops stay on the calling thread after a losing window, before splitting is tried again (ms). */
const SOLO_MS = 250;

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
  /** split ops in the current window, their summed gain over running alone (ms), and until when
   *  ops stay unsplit (see noteSplit) */
  private windowOps = 0;
  private gainMs = 0;
  private soloUntil = 0;

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
   * minParallel stays on the calling thread (waking workers costs more than it saves).
   */
  run(kernel: number, args: readonly number[], total: number, grain: number, minParallel: number): void {
    if (total <= 0) return;
    const ctl = this.ctl;
    if (!ctl || this.threads === 1 || total < minParallel || this.solo()) {
      try {
        this.call(kernel, args, 0, total, this.scratchBase);
      } catch (e) {
        throw kernelError(e);
      }
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
    if (mine > 0) this.noteSplit(((t1 - t0) * pieces) / mine - (performance.now() - t0));
  }

  /**
   * Workers that share a core with the caller (more runnable threads than cores, e.g. another
   * process busy) can make an op slower than the caller alone: a worker descheduled in the middle
   * of a piece holds the op for a scheduler tick. Each split op's gain is the caller's own pace
   * times all pieces minus the time the op took; a window of WINDOW ops that lost in total sends
   * ops to the calling thread for SOLO_MS. A single preemption (common on a VM) does not: it costs
   * a few ms once, while staying solo would cost the workers' share of every op that follows.
   */
  private noteSplit(gainMs: number): void {
    this.gainMs += gainMs;
    if (++this.windowOps < WINDOW) return;
    if (this.gainMs < 0) this.soloUntil = performance.now() + SOLO_MS;
    this.windowOps = 0;
    this.gainMs = 0;
  }

  private solo(): boolean {
    return this.soloUntil !== 0 && performance.now() < this.soloUntil;
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
