// Web Worker entry of browser-quantize-pool.ts: converts one row chunk per message with the same
// code as everywhere else (convertRows), transferring the result back.
import { convertRows } from './quantize-model.ts';

interface Job { id: number; srcType: number; dstType: number; bytes: Uint8Array; rowLen: number; rows: number; name: string }

self.onmessage = (ev: MessageEvent<Job>) => {
  const { id, srcType, dstType, bytes, rowLen, rows, name } = ev.data;
  try {
    const out = convertRows(srcType, dstType, bytes, rowLen, rows, name);
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
    (self as unknown as Worker).postMessage({ id, out: own }, [own.buffer]);
  } catch (e) {
    (self as unknown as Worker).postMessage({ id, error: e instanceof Error ? e.message : String(e), code: (e as { code?: string })?.code });
  }
};
