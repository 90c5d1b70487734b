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
/** How long ops stay on the calling thread once running them there measured faster (ms). */
const SOLO_MS = 250;
/** How long a measured solo pace stays the yardstick for split windows (ms). */
const FRESH_MS = 1000;

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
  /** the current window (see noteSplit): ops in it, their estimated gain over running alone, and
   *  their measured time and work; probing = the window runs on the caller to measure its pace */
  private windowOps = 0;
  private gainMs = 0;
  private windowMs = 0;
  private windowWork = 0;
  private probing = false;
  /** the pace of split-worthy ops run on the caller alone (ms per unit of work) and when measured */
  private soloPace = 0;
  private soloPaceAt = -Infinity;
  /** the last split window's pace, which a probe's pace is compared with */
  private splitPace = 0;
  /** until when ops stay unsplit */
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
   * minParallel stays on the calling thread (waking workers costs more than it saves). work (≈
   * multiply-adds) weighs ops against each other when the pool judges whether splitting pays.
   */
  run(kernel: number, args: readonly number[], total: number, grain: number, minParallel: number, work = total): void {
    if (total <= 0) return;
    const ctl = this.ctl;
    if (!ctl || this.threads === 1 || total < minParallel) return this.runAlone(kernel, args, total);
    if (this.probing || this.solo()) {
      const t0 = performance.now();
      this.runAlone(kernel, args, total);
      this.noteSolo(performance.now() - t0, work);
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
    const ms = performance.now() - t0;
    if (mine > 0) this.noteSplit(((t1 - t0) * pieces) / mine - ms, ms, work);
  }

  private runAlone(kernel: number, args: readonly number[], total: number): void {
    try {
      this.call(kernel, args, 0, total, this.scratchBase);
    } catch (e) {
      throw kernelError(e);
    }
  }

  /**
   * Workers that share a core with the caller (more runnable threads than cores, e.g. another
   * process busy) can make an op slower than the caller alone: a worker descheduled in the middle
   * of a piece holds the op for a scheduler tick. Each split op's estimated gain is the caller's
   * own pace times all pieces minus the time the op took. The estimate only raises the question:
   * it counts a worker's preemption in full, while the caller alone would be preempted too (on a
   * busy 2-core VM it went solo for a third of the ops while splitting ran 1.9× faster). So a
   * window of WINDOW split ops whose estimate lost in total makes the next window a probe that
   * runs on the caller, and ops go to the caller for SOLO_MS only when the probe's measured pace
   * (ms per unit of work) beat the split window's. While a measured solo pace is fresh (FRESH_MS),
   * split windows are judged against it directly, without another probe.
   */
  private noteSplit(gainMs: number, ms: number, work: number): void {
    this.gainMs += gainMs;
    this.windowMs += ms;
    this.windowWork += work;
    if (++this.windowOps < WINDOW) return;
    const pace = this.windowMs / Math.max(1, this.windowWork);
    const fresh = performance.now() - this.soloPaceAt < FRESH_MS;
    if (fresh && pace > this.soloPace) this.soloUntil = performance.now() + SOLO_MS;
    else if (!fresh && this.gainMs < 0) {
      this.probing = true;
      this.splitPace = pace;
    }
    this.newWindow();
  }

  /** A solo op of a probe or a solo spell: its pace becomes the yardstick for split windows. */
  private noteSolo(ms: number, work: number): void {
    this.windowMs += ms;
    this.windowWork += work;
    if (++this.windowOps < WINDOW) return;
    this.soloPace = this.windowMs / Math.max(1, this.windowWork);
    this.soloPaceAt = performance.now();
    if (this.probing) {
      this.probing = false;
      if (this.soloPace < this.splitPace) this.soloUntil = this.soloPaceAt + SOLO_MS;
    }
    this.newWindow();
  }

  private newWindow(): void {
    this.windowOps = 0;
    this.gainMs = 0;
    this.windowMs = 0;
    this.windowWork = 0;
  }

  private solo(): boolean {
    if (this.soloUntil === 0) return false;
    if (performance.now() < this.soloUntil) return true;
    // a solo spell is over: the next window starts split, judged against the spell's pace
    this.soloUntil = 0;
    this.newWindow();
    return false;
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
