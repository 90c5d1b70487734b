// Module Web Worker entry of the kernel pool (see worker-loop.js).
import { runWorker } from './worker-loop.js';

self.onmessage = (e) => {
  self.onmessage = null;
  runWorker(e.data, () => self.postMessage('ready'));
  self.close();
};
