// The worker's side of death detection. The worker holds a Web Lock for as long as it lives; the
// browser frees a context's locks only when that context is gone (terminated, closed, crashed), so
// the page, queued on the same lock, hears of the death the moment it happens — and never mistakes
// a worker busy in a long computation for a dead one, as a ping with a timeout could.
import { EngineError } from '../shared/errors.ts';

/** Resolves once the lock `name` is held; it is held until the worker ends. */
export function holdAliveLock(name: string): Promise<void> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return Promise.reject(new EngineError('BACKEND', 'Web Locks are not available here.'));
  return new Promise((resolve, reject) => {
    locks.request(name, () => {
      resolve();
      return new Promise<never>(() => {}); // never released while the worker lives
    }).catch(reject);
  });
}
