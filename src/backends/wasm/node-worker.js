// Node worker_threads entry of the kernel pool (see worker-loop.js).
import { parentPort, workerData } from 'node:worker_threads';
import { runWorker } from './worker-loop.js';

runWorker(workerData, () => parentPort.postMessage('ready'));
