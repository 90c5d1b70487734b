// worker_threads entry of node-quantize-pool.ts: loads the TypeScript quantizers through tsx and
// converts one row chunk per message, transferring the result back.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { convertRows } = await import('./quantize-model.ts');

parentPort.on('message', ({ srcType, dstType, bytes, rowLen, rows, name }) => {
  try {
    const out = convertRows(srcType, dstType, bytes, rowLen, rows, name);
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
    parentPort.postMessage({ out: own }, [own.buffer]);
  } catch (e) {
    parentPort.postMessage({ error: e instanceof Error ? e.message : String(e), code: e?.code });
  }
});
