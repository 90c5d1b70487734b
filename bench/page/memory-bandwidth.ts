// Memory bandwidth as WASM sees it: a hand-assembled SIMD kernel (four independent v128 accumulators,
// 64 bytes per iteration) sums a buffer far larger than any cache, on 1..T workers sharing one memory.

const PAGE = 65536;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

/** (func (param $p i32) (param $end i32) (result i32)) summing i32x4 lanes of [p, end) */
export function streamKernel(pages: number): Uint8Array {
  const load = (acc: number, off: number) => [0x20, acc, 0x20, 0, 0xfd, 0x00, 0x04, ...leb(off), 0xfd, 0xae, 0x01, 0x21, acc];
  const add = [0xfd, 0xae, 0x01];
  const code = [
    0x01, 0x04, 0x7b, // 4 v128 locals (2..5)
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0, 0x20, 1, 0x4f, 0x0d, 1, // p >= end → break
    ...load(2, 0), ...load(3, 16), ...load(4, 32), ...load(5, 48),
    0x20, 0, 0x41, ...[0xc0, 0x00], 0x6a, 0x21, 0, // p += 64
    0x0c, 0, 0x0b, 0x0b, // br loop, end loop, end block
    0x20, 2, 0x20, 3, ...add, 0x20, 4, ...add, 0x20, 5, ...add, 0xfd, 0x1b, 0, 0x0b,
  ];
  const enc = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]),
    ...section(2, [1, ...enc('env'), ...enc('mem'), 0x02, 0x03, ...leb(pages), ...leb(pages)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...enc('sum'), 0x00, 0]),
    ...section(10, [1, ...leb(code.length), ...code]),
  ]);
}

// Worker: instantiate on the shared memory, wait at the barrier, sum its slice `reps` times.
const WORKER = `onmessage = async (e) => {
  const { bytes, mem, ctl, id, n, from, to, reps } = e.data;
  const { instance } = await WebAssembly.instantiate(bytes, { env: { mem } });
  const c = new Int32Array(ctl);
  Atomics.add(c, 0, 1);
  while (Atomics.load(c, 0) < n) {}
  const t0 = performance.now();
  let s = 0;
  for (let r = 0; r < reps; r++) s += instance.exports.sum(from, to);
  postMessage({ ms: performance.now() - t0, s });
};`;

/** Streaming read bandwidth in bytes/s with `threads` workers over `mib` MiB (best of `trials`). */
export async function measureBandwidth(threads: number, mib = 256, reps = 4, trials = 3): Promise<number> {
  const pages = (mib << 20) / PAGE;
  const bytes = streamKernel(pages);
  const mem = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  new Uint8Array(mem.buffer).fill(1);
  const url = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
  const workers = Array.from({ length: threads }, () => new Worker(url));
  try {
    let best = 0;
    for (let t = 0; t < trials; t++) {
      const ctl = new SharedArrayBuffer(4);
      const slice = (mib << 20) / threads;
      const times = await Promise.all(workers.map((w, id) => new Promise<number>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<{ ms: number }>) => resolve(e.data.ms);
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage({ bytes, mem, ctl, id, n: threads, from: id * slice, to: (id + 1) * slice, reps });
      })));
      best = Math.max(best, (reps * (mib << 20)) / (Math.max(...times) / 1000));
    }
    return best;
  } finally {
    for (const w of workers) w.terminate();
    URL.revokeObjectURL(url);
  }
}
