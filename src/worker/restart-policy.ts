// How many times a dead engine worker is started again. A worker that keeps dying (a model that
// runs out of memory as soon as it loads or answers) must not be restarted forever: after
// `maxRestarts` deaths within `windowMs`, one last worker starts without the model, so the user can
// pick another; if even that one dies within the window, nothing is started any more.
export type RestartDecision =
  /** start a new worker and load the same model again */
  | 'reload'
  /** start a new worker, but leave the model out: it is what keeps dying */
  | 'bare'
  /** start nothing: the engine cannot run in this page */
  | 'stop';

export interface RestartPolicyOptions {
  /** restarts with the model within the window (default 2) */
  maxRestarts?: number;
  /** deaths older than this no longer count (default 60 s) */
  windowMs?: number;
  now?: () => number;
}

export class RestartPolicy {
  private deaths: number[] = [];
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(opts: RestartPolicyOptions = {}) {
    this.maxRestarts = opts.maxRestarts ?? 2;
    this.windowMs = opts.windowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** A worker died: what to do now. */
  onDeath(): RestartDecision {
    const t = this.now();
    this.deaths = [...this.deaths.filter((d) => t - d < this.windowMs), t];
    const n = this.deaths.length;
    return n <= this.maxRestarts ? 'reload' : n === this.maxRestarts + 1 ? 'bare' : 'stop';
  }

  /** deaths within the window so far */
  get recentDeaths(): number {
    const t = this.now();
    return this.deaths.filter((d) => t - d < this.windowMs).length;
  }
}
