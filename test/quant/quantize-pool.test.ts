// The worker-thread converter behind `cli quantize`: what workers write must be llama.cpp's bytes,
// and a failure inside a worker must reach the caller as the same typed error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuantizePool, type QuantizePool } from '../../src/quant/node-quantize-pool.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { loadParent, loadTensors } from './fixture-tensors.ts';

let pool: QuantizePool;
let parent: Map<string, Float32Array>;
beforeAll(async () => {
  pool = createQuantizePool(2);
  parent = await loadParent();
});
afterAll(() => pool.close());

const f32Bytes = (x: Float32Array) => new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));

describe('createQuantizePool', () => {
  it('converts chunks in parallel to the same bytes llama-quantize wrote (Q4_K, Q6_K, Q5_K, Q4_0)', async () => {
    const jobs = [];
    for (const file of ['dev-llama.Q4_K_M.gguf', 'dev-llama.Q5_K_M.gguf', 'dev-llama.Q4_0.gguf']) {
      for (const t of await loadTensors(file)) {
        if (t.type === GGMLType.F32) continue;
        const rows = Math.min(t.shape[1], 8);
        const x = parent.get(t.name)!.subarray(0, rows * t.shape[0]);
        const want = t.bytes.subarray(0, (t.bytes.length / t.nElements) * x.length);
        jobs.push(Promise.resolve(pool.convert(GGMLType.F32, t.type, f32Bytes(x), t.shape[0], rows, t.name))
          .then((got) => ({ type: t.type, same: Buffer.compare(got, want) === 0 })));
      }
    }
    const results = await Promise.all(jobs);
    expect(results.filter((r) => !r.same)).toEqual([]);
    const types = new Set(results.map((r) => r.type));
    for (const t of [GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q5_K, GGMLType.Q4_0]) expect(types).toContain(t);
  });

  it('rejects with the typed error a worker hit, and keeps working', async () => {
    await expect(Promise.resolve(pool.convert(GGMLType.F32, 9999, new Uint8Array(1024), 256, 1, 'blk.0.x.weight')))
      .rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE' });
    const again = await pool.convert(GGMLType.F32, GGMLType.F32, new Uint8Array(8), 2, 1, 'y');
    expect(again.length).toBe(8);
  });
});
