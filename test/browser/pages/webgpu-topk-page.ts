// Page side of webgpu-topk.test.ts: the device top-k (a multi-workgroup reduction, one or more
// levels) against the CPU sampler's own top-k selection, over random logits with many ties.
import { createWebGPUBackend, topKLevels } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { Sampler } from '../../../src/engine/sampling.ts';
import { rng } from './reference.ts';

/** The CPU sampler's top-k (heap selection; value descending, ties lower id first). */
function cpuTopK(x: Float32Array, k: number): number[] {
  return [...new Sampler({ temperature: 1, topK: k, topP: 1, minP: 0 }, x.length).candidates(x).ids];
}

export interface TopKCase { n: number; k: number; kind: string; levels: number; ok: boolean; firstBad: number; got: number[]; want: number[] }

/**
 * Each case: n logits of `kind` — 'ties' (normal values in steps of 1/4: hundreds equal at each
 * step), 'wide' (continuous normal), 'equal' (all the same value), 'rising' (the best at the end,
 * far from the first chunk) — and k.
 */
export async function runTopK(seed: number, threadsPerRow: number, cases: [n: number, k: number, kind: string][]): Promise<TopKCase[]> {
  const r = rng(seed);
  // threadsPerRow 1 selects the serial variant (one invocation per chunk), > 1 the workgroup tree
  const b = await createWebGPUBackend({ threadsPerRow });
  const out: TopKCase[] = [];
  try {
    for (const [n, k, kind] of cases) {
      const x = Float32Array.from({ length: n }, (_, i) => kind === 'equal' ? 1.5
        : kind === 'rising' ? Math.floor(i / 3)
        : kind === 'wide' ? r.normal() * 8 : Math.round(r.normal() * 20) / 4);
      const a = b.alloc(n + 7); // the op reads only the first n values
      b.write(a, Float32Array.from({ length: n + 7 }, (_, i) => (i < n ? x[i] : 1e30)));
      const want = cpuTopK(x, k);
      const got = await b.topK(a, k, n);
      const bad = want.findIndex((id, i) => got.ids[i] !== id || got.values[i] !== x[id]);
      out.push({ n, k, kind, levels: topKLevels(n, k).length, ok: bad < 0 && got.ids.length === k, firstBad: bad,
        got: got.ids.slice(0, 6), want: want.slice(0, 6) });
      b.free(a);
    }
    return out;
  } finally {
    b.dispose();
  }
}
