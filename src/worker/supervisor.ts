// Watches the engine worker for the page. A Comlink call to a dead worker never settles, so each call
// races the worker's death: once it is known, the calls it will never answer reject with WORKER_LOST
// and `onDeath` decides what comes next (restart() or stop()).
//
// How a death is known:
// - the worker's Web Lock frees (liveness.ts): exact, at once, whatever killed it, and never fooled
//   by a worker that is busy (a long prompt batch blocks its event loop for seconds);
// - an `error` event before the worker is up: its script failed, it will never answer;
// - a heartbeat while a call is in flight: no pong for `hangAfterMs` means hung, or dead where Web
//   Locks are missing. The timeout is long because only a hang, not a death, depends on it.
import * as Comlink from 'comlink';
import { EngineError } from '../shared/errors.ts';
import type { EngineWorkerApi } from './api.ts';

export type Remote = Comlink.Remote<EngineWorkerApi>;

/** One worker's calls: they reject with WORKER_LOST once that worker has died. */
export interface WorkerHandle {
  readonly generation: number;
  call<T>(fn: (remote: Remote) => Promise<T>): Promise<T>;
}

export interface SupervisorOptions {
  /** starts a worker; `name` is unique to it (the worker's lock is named after it) */
  spawn(name: string): Worker;
  /** the worker died: `reason` says how, in a few words */
  onDeath(reason: string): void;
  pingEveryMs?: number;
  hangAfterMs?: number;
}

class Live implements WorkerHandle {
  over = false;
  /** it has answered (or holds its lock): an `error` event from now on is an uncaught error, not a failed start */
  up = false;
  inFlight = 0;
  /** when the unanswered ping was sent */
  pingSent: number | null = null;
  timer: ReturnType<typeof setInterval> | undefined;
  readonly dead: Promise<never>;
  kill!: (e: EngineError) => void;

  constructor(readonly generation: number, readonly worker: Worker, readonly remote: Remote,
    private readonly beat: (live: Live) => void) {
    this.dead = new Promise<never>((_, reject) => { this.kill = reject; });
    this.dead.catch(() => {});
  }

  call<T>(fn: (remote: Remote) => Promise<T>): Promise<T> {
    if (this.over) return this.dead;
    this.inFlight++;
    this.beat(this);
    const settle = (): void => { this.inFlight--; };
    const answered = fn(this.remote).then((v) => { this.up = true; return v; }); // it runs: later errors are its own
    return Promise.race([answered, this.dead]).finally(settle);
  }
}

export class WorkerSupervisor {
  private live!: Live;
  private generation = 0;
  private readonly id = Math.random().toString(36).slice(2, 10);
  private readonly pingEveryMs: number;
  private readonly hangAfterMs: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.pingEveryMs = opts.pingEveryMs ?? 5_000;
    this.hangAfterMs = opts.hangAfterMs ?? 60_000;
    this.live = this.start();
  }

  /** The worker now; after stop(), one whose calls all reject. */
  current(): WorkerHandle {
    return this.live;
  }

  call<T>(fn: (remote: Remote) => Promise<T>): Promise<T> {
    return this.live.call(fn);
  }

  /** After a death: a new worker takes the calls from now on. */
  restart(): void {
    this.live = this.start();
  }

  /** After a death: no new worker; every call rejects with `message`. */
  stop(message: string): void {
    const gone = new Live(++this.generation, null as never, null as never, () => {});
    gone.over = true;
    gone.kill(new EngineError('WORKER_LOST', message));
    this.live = gone;
  }

  private start(): Live {
    const generation = ++this.generation;
    const name = `edge-llm-engine:${this.id}:${generation}`;
    const worker = this.opts.spawn(name);
    const live = new Live(generation, worker, Comlink.wrap<EngineWorkerApi>(worker), (l) => this.heartbeat(l));
    worker.addEventListener('error', (e) => {
      if (!live.up) this.died(live, `its script failed to start${e.message ? ` (${e.message})` : ''}`);
    });
    void this.watchLock(live, name);
    return live;
  }

  private async watchLock(live: Live, name: string): Promise<void> {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (!locks) return; // the heartbeat alone, then
    try {
      await Promise.race([live.remote.holdAliveLock(name), live.dead]);
    } catch {
      return;
    }
    live.up = true;
    // granted only once the worker's hold is gone, which is only when the worker is
    void locks.request(name, () => this.died(live, 'it was ended by the browser (out of memory, a crash, or closed)'));
  }

  /**
   * Pings while calls are in flight; started by a call, ends when none is left. A hang is a ping
   * unanswered for hangAfterMs (not "no pong lately": a background tab's timers may fire once a minute).
   */
  private heartbeat(live: Live): void {
    if (live.timer !== undefined) return;
    live.timer = setInterval(() => {
      if (live.over || live.inFlight === 0) {
        clearInterval(live.timer);
        live.timer = undefined;
        live.pingSent = null;
        return;
      }
      if (live.pingSent === null) {
        const sent = Date.now();
        live.pingSent = sent;
        live.remote.ping().then(() => { if (live.pingSent === sent) live.pingSent = null; }, () => {});
      } else if (Date.now() - live.pingSent > this.hangAfterMs) {
        this.died(live, `it stopped answering for ${Math.round(this.hangAfterMs / 1000)} s`);
      }
    }, this.pingEveryMs);
  }

  private died(live: Live, reason: string): void {
    if (live.over) return;
    live.over = true;
    clearInterval(live.timer);
    live.worker.terminate();
    live.kill(new EngineError('WORKER_LOST', `The engine stopped: ${reason}.`));
    if (live === this.live) this.opts.onDeath(reason);
  }
}
