// Module worker for browser-page.ts: runs matmulCheck where Atomics.wait is allowed.
import { matmulCheck } from './browser-page.ts';

self.onmessage = async (e: MessageEvent<number>) => {
  try {
    self.postMessage(await matmulCheck(e.data));
  } catch (err) {
    self.postMessage({ error: String((err as Error).stack ?? err) });
  }
};
