// One model, one KV cache: requests run one at a time, in arrival order. A request whose client
// left while it waited is dropped when its turn comes, so the queue moves straight on.
import { EngineError } from '../shared/errors.ts';

export class RequestQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** requests queued or running */
  get size(): number {
    return this.waiting;
  }

  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.waiting++;
    const next = this.tail.catch(() => {}).then(() => {
      if (signal?.aborted) throw new EngineError('ABORTED', 'The client went away before its turn.');
      return job();
    });
    this.tail = next;
    return next.finally(() => { this.waiting--; });
  }

  /** resolves once everything queued so far has finished */
  async drain(): Promise<void> {
    await this.tail.catch(() => {});
  }
}
