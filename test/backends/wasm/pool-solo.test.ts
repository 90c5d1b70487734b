// When the pool's workers get no core of their own, splitting ops only slows them down: after 16
// split ops in a row that the caller finished alone, ops run unsplit on the caller for a second,
// then splitting is tried again. Made deterministic with a "worker" that never runs (no thread
// listens to the control block) and a mocked clock; GEN counts the ops handed to workers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemory } from '../../../src/backends/wasm/heap.ts';
import { nodePlatform } from '../../../src/backends/wasm/node-platform.ts';
import { KernelPool } from '../../../src/backends/wasm/thread-pool.ts';
import { CONTROL_BYTES, GEN } from '../../../src/backends/wasm/worker-loop.js';

type Fn = (...args: number[]) => number;

describe('kernel pool without a running worker', () => {
  afterEach(() => vi.restoreAllMocks());

  it('stops splitting after 16 ops it finished alone, and tries again a second later', async () => {
    const module = await nodePlatform.loadModule(true);
    const { memory } = createMemory(true, 16 << 20);
    memory.grow(63);
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, Fn>;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const pool = new KernelPool(names.map((n) => wasm[n]), [{ terminate: () => {} }], control);
    pool.setScratch(1 << 20, 1 << 16);
    const ctl = new Int32Array(control);
    let now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const n = 4096;
    const dst = 2 << 20;
    const src = dst + 4 * n;
    new Float32Array(memory.buffer, src, n).fill(1);
    const add = (): number => {
      pool.run(names.indexOf('add'), [dst, src], n, 16, 2);
      return Atomics.load(ctl, GEN);
    };
    for (let i = 1; i <= 16; i++) expect(add()).toBe(i); // split (8 pieces), all run by the caller
    expect(add()).toBe(16); // unsplit now
    now += 999;
    expect(add()).toBe(16);
    now += 2;
    expect(add()).toBe(17); // split again
    expect(new Float32Array(memory.buffer, dst, 4)[0]).toBe(19); // all 19 ops ran, split or not
    pool.dispose();
  });
});
