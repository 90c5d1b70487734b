// When the pool's workers get no core of their own, splitting can make ops slower than the caller
// alone: a window of 64 split ops of a kernel whose estimated gain (the caller's pace times all
// pieces, minus the time the op took) is a loss of 30% or more makes its next 64 ops a probe on the
// caller; only when the probe's measured pace beats the split window's by 30% do that kernel's ops
// stay on the caller, for 250 ms, before splitting is tried again (split-verdict.ts). Made deterministic with a "worker" that never runs (no thread listens
// to the control block) and a mocked clock; GEN counts the ops handed to workers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemory } from '../../../src/backends/wasm/heap.ts';
import { nodePlatform } from '../../../src/backends/wasm/node-platform.ts';
import { KernelPool } from '../../../src/backends/wasm/thread-pool.ts';
import { CONTROL_BYTES, GEN } from '../../../src/backends/wasm/worker-loop.js';

type Fn = (...args: number[]) => number;

describe('kernel pool without a running worker', () => {
  afterEach(() => vi.restoreAllMocks());
  let now = 1000;

  /** soloCostMs: extra clock time an unsplit op (one call over the whole range) takes */
  async function setup(soloCostMs = 0) {
    const module = await nodePlatform.loadModule(true);
    const { memory } = createMemory(true, 16 << 20);
    memory.grow(63);
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, Fn>;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const n = 4096;
    const fns = names.map((name) => wasm[name]);
    fns[names.indexOf('add')] = (...a: number[]) => {
      if (a[3] - a[2] === n) now += soloCostMs;
      return wasm.add(...a);
    };
    // a second kernel slot running the same add, whose unsplit op always costs 10 ms more
    const other = names.indexOf('scale');
    fns[other] = (...a: number[]) => {
      if (a[3] - a[2] === n) now += 10;
      return wasm.add(...a);
    };
    const pool = new KernelPool(fns, [{ terminate: () => {} }], control);
    pool.setScratch(1 << 20, 1 << 16);
    const ctl = new Int32Array(control);
    const dst = 2 << 20;
    const src = dst + 4 * n;
    new Float32Array(memory.buffer, src, n).fill(1);
    const add = (): number => {
      pool.run(names.indexOf('add'), [dst, src], n, 16, 2);
      return Atomics.load(ctl, GEN);
    };
    const addOther = (): number => {
      pool.run(other, [dst, src], n, 16, 2);
      return Atomics.load(ctl, GEN);
    };
    const sum = () => new Float32Array(memory.buffer, dst, 4)[0];
    return { pool, add, addOther, sum };
  }

  it('keeps splitting while splitting loses nothing (the caller just runs every piece)', async () => {
    const { pool, add, sum } = await setup();
    vi.spyOn(performance, 'now').mockImplementation(() => 1000);
    for (let i = 1; i <= 200; i++) expect(add()).toBe(i);
    expect(sum()).toBe(200);
    pool.dispose();
  });

  it('after a losing window, probes 64 ops on the caller; faster there, it stays 250 ms, then splits again', async () => {
    const { pool, add, sum } = await setup();
    // every clock read advances 1 ms: each split op reads start, end of its own pieces and end of
    // the wait, so it "worked" 1 ms and waited 1 ms more: an estimated loss of 1 ms, 2 ms per op;
    // an op on the caller reads the clock twice: 1 ms
    now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now++);
    for (let i = 1; i <= 64; i++) expect(add()).toBe(i);
    for (let i = 0; i < 64; i++) expect(add()).toBe(64); // the probe
    const soloFrom = now;
    while (now < soloFrom + 249) expect(add()).toBe(64);
    now = soloFrom + 251;
    expect(add()).toBe(65); // split again
    expect(sum()).toBeGreaterThan(65); // every op ran, split or not
    pool.dispose();
  });

  it('keeps splitting when the probe runs slower on the caller, and judges later windows by its pace', async () => {
    // an unsplit op costs 10 ms more: the estimate said splitting lost, the probe says it wins
    const { pool, add } = await setup(10);
    now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now++);
    for (let i = 1; i <= 64; i++) expect(add()).toBe(i);
    for (let i = 0; i < 64; i++) expect(add()).toBe(64); // the probe
    // within a second of the probe no window is probed again: 5 windows stay split throughout
    for (let i = 65; i <= 64 * 6; i++) expect(add()).toBe(i);
    pool.dispose();
  });

  it('judges each kernel by itself: one goes to the caller while another keeps splitting', async () => {
    const { pool, add, addOther } = await setup();
    now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now++);
    let gen = 0;
    // 64 ops of each: both windows lose by the estimate, so both probe
    for (let i = 0; i < 64; i++) {
      expect(add()).toBe(++gen);
      expect(addOther()).toBe(++gen);
    }
    // the probes: add is faster alone and stays there; the other kernel's probe is slower alone
    for (let i = 0; i < 64; i++) {
      expect(add()).toBe(gen);
      expect(addOther()).toBe(gen);
    }
    // add's solo spell: only the other kernel's ops are handed to workers
    for (let i = 0; i < 20; i++) {
      expect(add()).toBe(gen);
      expect(addOther()).toBe(++gen);
    }
    pool.dispose();
  });
});
