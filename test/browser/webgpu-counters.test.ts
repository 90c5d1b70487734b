// The WebGPU backend's counters count what it really encodes: for one decode step of stories260K
// cut to 3, 4 and 5 layers, its dispatches and submits equal those counted at the WebGPU API
// (compute-pass dispatchWorkgroups, queue.submit), grow by the same number per added layer, and its
// weight bytes are the tensors a token reads by the file's tensor table (every layer tensor, the
// final norm, the LM head, one embedding row); its KV bytes are the cached rows attention reads.
// With the fused kernels off (backend option fuse: false) the same step takes 10 more dispatches a layer.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';
import { webgpuHosts, type BrowserHarness } from './harness.ts';
import type { StepCounts } from './pages/webgpu-counters-page.ts';

const LAYERS = [3, 4, 5];
const PROMPT = 6;

interface Variant { file: string; bytesPerToken: number; kvDim: number }

/** stories260K's first `layers` blocks, and the weight bytes a decoded token reads of it. */
async function variant(layers: number): Promise<Variant> {
  const f = await openGGUF(await openNodeFile(fixture('models', 'stories260K.gguf')));
  const meta = [...f.metadata].map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
  meta.find((m) => m.key === 'llama.block_count')!.value = layers;
  const tensors = [];
  let bytes = 0;
  for (const t of f.tensors) {
    const m = /^blk\.(\d+)\./.exec(t.name);
    if (m && Number(m[1]) >= layers) continue;
    tensors.push({ name: t.name, type: t.type, shape: t.shape, byteSize: t.byteSize, data: await f.readTensor(t) });
    bytes += t.name === 'token_embd.weight' ? t.byteSize / t.shape[1] : t.byteSize;
  }
  const dim = f.metadata.get('llama.embedding_length') as number;
  const kvDim = (dim / (f.metadata.get('llama.attention.head_count') as number)) * (f.metadata.get('llama.attention.head_count_kv') as number);
  await f.close();
  const file = path.join(os.tmpdir(), `counters-stories-${layers}-${process.pid}.gguf`);
  await writeFile(file, writeGGUF(meta, tensors));
  return { file, bytesPerToken: bytes, kvDim };
}

describe.each(webgpuHosts({ timeoutMs: 60_000 }))('%s', (_host, open) => {
  let h: BrowserHarness;
  const v: Variant[] = [];
  const r: StepCounts[] = [];
  /** the same steps with the backend's fused kernels off */
  const unfused: StepCounts[] = [];
  beforeAll(async () => {
    h = await open();
    for (const l of LAYERS) {
      v.push(await variant(l));
      const url = h.fileUrl(v[v.length - 1].file);
      r.push(await h.run<StepCounts>('test/browser/pages/webgpu-counters-page.ts', 'decodeStep', url, PROMPT));
      unfused.push(await h.run<StepCounts>('test/browser/pages/webgpu-counters-page.ts', 'decodeStep', url, PROMPT, false));
    }
  }, 180_000);
  afterAll(async () => { await h?.close(); });

  it('a decode step: the backend counts every dispatch and submit the WebGPU API sees', () => {
    for (const c of r) {
      expect(c.backend.dispatches, `${c.layers} layers`).toBe(c.api.dispatches);
      expect(c.backend.submits, `${c.layers} layers`).toBe(c.api.submits);
      expect(c.api.submits).toBe(1);
    }
  });

  it('each added layer adds the same dispatches: one of each per-layer kernel', () => {
    expect(r.map((c) => c.layers)).toEqual(LAYERS);
    const per = r[1].api.dispatches - r[0].api.dispatches;
    expect(r[2].api.dispatches - r[1].api.dispatches).toBe(per);
    // a llama layer: the fused q/k/v matmul and gate/up matmul + GLU, each norming its input, 2
    // matmuls adding into the residual (o, down), the KV store turning k, attention turning q
    expect(per).toBe(6);
    for (const c of r) {
      expect(c.perOp['matmul-vec']).toBe(1); // the LM head
      expect(c.perOp['matmul-vec-add']).toBe(2 * c.layers);
      expect(c.perOp.add).toBeUndefined();
      expect(c.perOp['matmul-qkv-vec-norm']).toBe(c.layers);
      expect(c.perOp['matmul-glu-vec-norm']).toBe(c.layers);
      expect(c.perOp.rope).toBeUndefined();
      expect(c.perOp['store-kv-rope']).toBe(c.layers);
      expect(c.perOp['store-kv']).toBeUndefined();
      expect(c.perOp.glu).toBeUndefined();
      expect(c.perOp.rmsnorm).toBe(1); // the output norm
      expect(c.perOp['attention-rope'] ?? c.perOp['attention-serial-rope']).toBe(c.layers);
      expect(c.perOp['top-k'] ?? c.perOp['top-k-serial']).toBe(1); // 512 logits: one chunk, one level
    }
  });

  it('the fused kernels save 10 dispatches a layer: q/k/v (2), gate/up + GLU (2), rope of k and of q (2), residual adds (2), pre-norms (2)', () => {
    r.forEach((c, i) => {
      const u = unfused[i];
      console.log(`${c.layers} layers, per decoded token: ${u.api.dispatches} dispatches unfused, ${c.api.dispatches} fused; `
        + `activation bytes read ${u.backend.activationBytes} → ${c.backend.activationBytes}; weight bytes ${c.backend.weightBytes}`);
      expect(u.backend.dispatches).toBe(u.api.dispatches);
      expect(u.api.dispatches - c.api.dispatches).toBe(10 * c.layers);
      expect(u.perOp['matmul-vec']).toBe(7 * c.layers + 1);
      expect(u.perOp.add).toBe(2 * c.layers);
      expect(u.perOp.rope).toBe(2 * c.layers);
      expect(u.perOp.rmsnorm).toBe(2 * c.layers + 1);
      // the same weights are read either way; x once instead of three and two times
      expect(c.backend.weightBytes).toBe(u.backend.weightBytes);
      expect(c.backend.activationBytes).toBeLessThan(u.backend.activationBytes);
    });
  });

  it('weight bytes per token are the tensors the file says a token reads; KV bytes the rows attention reads', () => {
    r.forEach((c, i) => {
      expect(c.backend.weightBytes, `${c.layers} layers`).toBe(v[i].bytesPerToken);
      // f16 cache: K and V rows of every position up to this one, in every layer
      expect(c.backend.kvBytes).toBe(c.layers * 2 * (PROMPT + 1) * v[i].kvDim * 2);
      expect(c.backend.activationBytes).toBeGreaterThan(0);
    });
  });
});
