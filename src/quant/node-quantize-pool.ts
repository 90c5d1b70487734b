// Node: converts row chunks on worker_threads so `cli quantize` keeps every core busy. Each chunk is
// quantized whole by one worker with the same code as on the main thread, so the bytes do not change.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EngineError, type ErrorCode } from '../shared/errors.ts';
import type { RowConverter } from './quantize-model.ts';

interface Job {
  msg: { srcType: number; dstType: number; bytes: Uint8Array; rowLen: number; rows: number; name: string };
  resolve: (out: Uint8Array) => void;
  reject: (e: Error) => void;
}

export interface QuantizePool {
  readonly size: number;
  readonly convert: RowConverter;
  close(): Promise<void>;
}

/** `size` workers (default: one per core); jobs queue when all are busy. */
export function createQuantizePool(size = availableParallelism()): QuantizePool {
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const queue: Job[] = [];
  const running = new Map<Worker, Job>();
  const dispatch = () => {
    while (idle.length && queue.length) {
      const w = idle.pop()!;
      const job = queue.shift()!;
      running.set(w, job);
      w.postMessage(job.msg, [job.msg.bytes.buffer as ArrayBuffer]);
    }
  };
  for (let i = 0; i < size; i++) {
    const w = new Worker(new URL('./node-quantize-worker.mjs', import.meta.url));
    w.on('message', (m: { out?: Uint8Array; error?: string; code?: string }) => {
      const job = running.get(w)!;
      running.delete(w);
      idle.push(w);
      if (m.out) job.resolve(m.out);
      else job.reject(new EngineError((m.code ?? 'BAD_ARGUMENT') as ErrorCode, m.error ?? 'quantize worker failed'));
      dispatch();
    });
    w.on('error', (e) => running.get(w)?.reject(new EngineError('IO', `a quantize worker failed: ${e.message}`, { cause: e })));
    all.push(w);
    idle.push(w);
  }
  return {
    size,
    convert(srcType, dstType, src, rowLen, rows, name) {
      // transfer a private copy: the reader's buffer may be shared or a view into a larger one
      const bytes = src.byteOffset === 0 && src.byteLength === src.buffer.byteLength ? src : src.slice();
      return new Promise((resolve, reject) => {
        queue.push({ msg: { srcType, dstType, bytes, rowLen, rows, name }, resolve, reject });
        dispatch();
      });
    },
    async close() {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
