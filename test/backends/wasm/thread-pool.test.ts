// The worker side of the kernel pool, made deterministic: the calling thread's kernel stalls on its
// first piece, so a real worker must claim and compute the rest (and report its traps).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory } from '../../../src/backends/wasm/heap.ts';
import { nodePlatform } from '../../../src/backends/wasm/node-platform.ts';
import { KernelPool } from '../../../src/backends/wasm/thread-pool.ts';
import { CONTROL_BYTES } from '../../../src/backends/wasm/worker-loop.js';

type Fn = (...args: number[]) => number;

describe('kernel pool workers', () => {
  let memory: WebAssembly.Memory;
  let names: string[];
  let wasm: Record<string, Fn>;
  let pool: KernelPool;
  let stallFirst = 0;
  let mainPieces = 0;
  let mainComputes = true;

  beforeAll(async () => {
    const module = await nodePlatform.loadModule(true);
    memory = createMemory(true, 64 << 20).memory;
    memory.grow(63);
    names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    wasm = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, Fn>;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const worker = await nodePlatform.spawnWorker({ module, memory, control, tid: 1, names });
    const fns = names.map((n) => wasm[n]);
    // the caller's `add`: stall on the first piece, then compute like the worker does
    fns[names.indexOf('add')] = (...a: number[]) => {
      if (mainPieces++ === 0) for (const end = Date.now() + stallFirst; Date.now() < end;);
      return mainComputes ? wasm.add(...a) : 0;
    };
    pool = new KernelPool(fns, [worker], control);
    pool.setScratch(1 << 20, 1 << 16);
  });
  afterAll(() => pool.dispose());

  it('a worker computes the pieces the stalled caller leaves (exact float sums)', () => {
    const n = 100_003;
    const dst = 1 << 21;
    const src = dst + 4 * n + 64;
    const a = Float32Array.from({ length: n }, (_, i) => i * 0.5);
    const b = Float32Array.from({ length: n }, (_, i) => 1 - i);
    new Float32Array(memory.buffer, dst, n).set(a);
    new Float32Array(memory.buffer, src, n).set(b);
    stallFirst = 200;
    mainPieces = 0;
    pool.run(names.indexOf('add'), [dst, src], n, 16, 2);
    expect(mainPieces).toBeLessThan(8); // 2 threads × 4 pieces: the worker took some
    const got = new Float32Array(memory.buffer, dst, n);
    let bad = 0;
    for (let i = 0; i < n; i++) if (got[i] !== Math.fround(a[i] + b[i])) bad++;
    expect(bad).toBe(0);
  });

  it('a trap inside a worker surfaces as EngineError BACKEND, and the pool keeps working', () => {
    stallFirst = 200;
    mainPieces = 0;
    mainComputes = false;
    // every piece but the caller's first runs past the end of memory
    const n = 1 << 16;
    const edge = memory.buffer.byteLength - 4 * (n / 8);
    expect(() => pool.run(names.indexOf('add'), [edge, edge], n, 16, 2))
      .toThrow(expect.objectContaining({ code: 'BACKEND' }));
    stallFirst = 0;
    mainComputes = true;
    const p = 1 << 21;
    new Float32Array(memory.buffer, p, 4).set([1, 2, 3, 4]);
    pool.run(names.indexOf('add'), [p, p], 4, 16, 2);
    expect(Array.from(new Float32Array(memory.buffer, p, 4))).toEqual([2, 4, 6, 8]);
  });
});
