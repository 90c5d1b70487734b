// Browser: converts row chunks on Web Workers (nested in the engine worker) so a folder import keeps
// every core busy, as node-quantize-pool.ts does for `cli convert`. Each chunk is converted whole by
// one worker with convertRows, so the bytes are the same as on one thread.
import { EngineError, type ErrorCode } from '../shared/errors.ts';
import type { QuantizePool } from './node-quantize-pool.ts';

interface Pending { resolve: (out: Uint8Array) => void; reject: (e: Error) => void }
interface Reply { id: number; out?: Uint8Array; error?: string; code?: string }

/** `size` workers (default: logical CPUs, at most 8); null where this context cannot start workers. */
export function createBrowserQuantizePool(size = Math.min(8, globalThis.navigator?.hardwareConcurrency || 2)): QuantizePool | null {
  if (typeof Worker !== 'function') return null;
  const workers: Worker[] = [];
  const load = new Map<Worker, number>();
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let broken: Error | null = null;
  for (let i = 0; i < size; i++) {
    const w = new Worker(new URL('./browser-quantize-worker.ts', import.meta.url), { type: 'module', name: `quantize-${i}` });
    w.onmessage = (ev: MessageEvent<Reply>) => {
      const m = ev.data;
      const p = pending.get(m.id);
      pending.delete(m.id);
      load.set(w, load.get(w)! - 1);
      if (m.out) p?.resolve(m.out);
      else p?.reject(new EngineError((m.code ?? 'BAD_ARGUMENT') as ErrorCode, m.error ?? 'a quantize worker failed'));
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      broken = new EngineError('IO', `a quantize worker failed: ${ev.message || 'it could not start'}`);
      for (const p of pending.values()) p.reject(broken);
      pending.clear();
    };
    workers.push(w);
    load.set(w, 0);
  }
  return {
    size,
    convert(srcType, dstType, src, rowLen, rows, name) {
      if (broken) return Promise.reject(broken);
      // transfer a private copy: the reader's buffer may be a view into a larger one
      const bytes = src.byteOffset === 0 && src.byteLength === src.buffer.byteLength ? src : src.slice();
      const w = workers.reduce((a, b) => (load.get(b)! < load.get(a)! ? b : a));
      load.set(w, load.get(w)! + 1);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, srcType, dstType, bytes, rowLen, rows, name }, [bytes.buffer as ArrayBuffer]);
      });
    },
    async close() {
      for (const w of workers) w.terminate();
      for (const p of pending.values()) p.reject(new EngineError('ABORTED', 'The quantize workers were stopped.'));
      pending.clear();
    },
  };
}
