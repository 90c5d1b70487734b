// A progress callback from the page is a Comlink proxy with its own MessagePort, so the reply to the
// call it reports on can overtake its last reports, and the page drops progress that lands after the
// result: a fast import then shows no progress at all. Awaiting the last report's delivery before
// returning keeps the order.
import type { Callback } from './api.ts';

export interface OrderedProgress<T> {
  report: Callback<T>;
  /** Resolves once the page has received the last report (a lost page does not make this fail). */
  flush(): Promise<void>;
}

export function orderedProgress<T>(cb: Callback<T> | undefined): OrderedProgress<T> {
  let last: Promise<unknown> = Promise.resolve();
  return {
    report: (value) => {
      const sent = cb?.(value) as unknown;
      if (sent instanceof Promise) last = sent.catch(() => undefined);
    },
    flush: async () => { await last; },
  };
}
