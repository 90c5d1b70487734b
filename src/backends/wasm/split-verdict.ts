// Whether one kernel's ops should be split across the pool's workers or run on the caller alone
// (KernelPool keeps one verdict per kernel).
//
// Workers that share a core with the caller (more runnable threads than cores, e.g. another
// process busy) can make an op slower than the caller alone: a worker descheduled in the middle
// of a piece holds the op for a scheduler tick. Each split op's estimated gain is the caller's own
// pace times all pieces minus the time the op took. The estimate only raises the question: it
// counts a worker's preemption in full, while the caller alone would be preempted too (on a busy
// 2-core VM it went solo for a third of the ops while splitting ran 1.9× faster). So a window of
// WINDOW split ops whose estimate lost by SOLO_MARGIN makes the next window a probe that runs on
// the caller, and ops go to the caller for SOLO_MS only when the probe ran SOLO_MARGIN faster than the
// split window (ms per unit of work). While a measured solo pace is fresh (FRESH_MS), split windows
// are judged against it directly, without another probe.
//
// Per kernel, because paces are comparable only within one kernel: a window of 64 decode ops of
// all kernels spans parts of two tokens, so its mix of ops, and their pace per unit of work,
// changed from window to window, and small ops that lose a little when split sent every op to
// the caller. Judged as one, an idle 2-thread decode ran a third of its ops alone, at 110–140 tok/s
// instead of 170–185 (llama-155m Q4_K_M, 2 cores).

/** Split ops per verdict on whether splitting pays. */
export const WINDOW = 64;
/** How long ops stay on the calling thread once running them there measured faster (ms). */
export const SOLO_MS = 250;
/** How long a measured solo pace stays the yardstick for split windows (ms). */
const FRESH_MS = 1000;
/** How much faster the caller alone must be: one kernel's pace swings by ±15% between windows on
 *  an idle VM, while workers without a core of their own make split ops 1.5–3× slower. */
const SOLO_MARGIN = 1.3;

export class SplitVerdict {
  /** the current window: ops in it, their estimated gain over running alone, their time and work;
   *  probing = the window runs on the caller to measure its pace */
  private ops = 0;
  private gainMs = 0;
  private ms = 0;
  private work = 0;
  private probing = false;
  /** pace (ms per unit of work) of this kernel's ops on the caller alone, and when measured */
  private soloPace = 0;
  private soloPaceAt = -Infinity;
  /** the last split window's pace, which a probe's pace is compared with */
  private splitPace = 0;
  /** until when ops stay unsplit */
  private soloUntil = 0;

  /** Whether the next op runs on the caller alone (a probe or a solo spell). */
  solo(): boolean {
    if (this.probing) return true;
    if (this.soloUntil === 0) return false;
    if (performance.now() < this.soloUntil) return true;
    // a solo spell is over: the next window starts split, judged against the spell's pace
    this.soloUntil = 0;
    this.newWindow();
    return false;
  }

  noteSplit(gainMs: number, ms: number, work: number, now: number): void {
    this.gainMs += gainMs;
    if (!this.add(ms, work)) return;
    const pace = this.ms / this.work;
    if (now - this.soloPaceAt < FRESH_MS) {
      if (pace > this.soloPace * SOLO_MARGIN) this.soloUntil = now + SOLO_MS;
    } else if (this.gainMs * SOLO_MARGIN < this.ms * (1 - SOLO_MARGIN)) {
      // the estimated solo time (ms + gainMs) beat the split time by SOLO_MARGIN
      this.probing = true;
      this.splitPace = pace;
    }
    this.newWindow();
  }

  /** An op of a probe or a solo spell: its pace becomes the yardstick for split windows. */
  noteSolo(ms: number, work: number, now: number): void {
    if (!this.add(ms, work)) return;
    this.soloPace = this.ms / this.work;
    this.soloPaceAt = now;
    if (this.probing) {
      this.probing = false;
      if (this.soloPace * SOLO_MARGIN < this.splitPace) this.soloUntil = now + SOLO_MS;
    }
    this.newWindow();
  }

  /** Adds an op to the window; true when the window is full. */
  private add(ms: number, work: number): boolean {
    this.ms += ms;
    this.work += Math.max(1, work);
    return ++this.ops >= WINDOW;
  }

  private newWindow(): void {
    this.ops = 0;
    this.gainMs = 0;
    this.ms = 0;
    this.work = 0;
  }
}
