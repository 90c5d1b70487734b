// `cli bench --backend webgpu`'s GPU efficiency figures, counted by the backend's recorder (every
// dispatch and submit it encodes, the bytes each dispatch's kernel reads): per prefill and per
// decoded token, by kernel with its workgroup size, the adapter's limits, and the top-k's share of
// a decode step (timed alone on logits of the model's vocabulary).
import type { Backend } from '../backends/backend.ts';
import type { GPUCaps } from '../backends/webgpu/device.ts';
import type { OpCounts } from '../backends/webgpu/recorder.ts';
import { topKLevels, type WebGPUBackend, type WebGPUStats } from '../backends/webgpu/webgpu-backend.ts';
import { Rng } from '../engine/rng.ts';

export function asWebGPU(b: Backend): WebGPUBackend | null {
  return b.name === 'webgpu' && 'countPerOp' in b ? b as WebGPUBackend : null;
}

export interface KernelFigures { dispatchesPerToken: number; workgroupSize: number; workgroupsPerToken: number; bytesPerToken: number }

export interface GpuFigures {
  adapter: string;
  limits: Omit<GPUCaps, 'adapter' | 'shaderF16' | 'subgroups' | 'subgroupSizes'>;
  features: { shaderF16: boolean; subgroups: boolean };
  prefill: { tokens: number; dispatches: number; submits: number };
  perToken: { dispatches: number; submits: number; weightBytes: number; kvBytes: number; activationBytes: number };
  /** the model's weights on the device; perToken.weightBytes / this is the share of them a token reads */
  modelWeightBytes: number;
  kernels: Record<string, KernelFigures>;
  topK: { k: number; vocab: number; levels: number; dispatches: number; ms: number; roundTripMs: number; shareOfDecodeStep: number };
}

export function perToken(a: WebGPUStats, b: WebGPUStats, n: number): GpuFigures['perToken'] {
  return {
    dispatches: (b.dispatches - a.dispatches) / n, submits: (b.submits - a.submits) / n,
    weightBytes: (b.weightBytesRead - a.weightBytesRead) / n, kvBytes: (b.kvBytesRead - a.kvBytesRead) / n,
    activationBytes: (b.activationBytesRead - a.activationBytesRead) / n,
  };
}

export function kernels(ops: Record<string, OpCounts>, n: number): Record<string, KernelFigures> {
  return Object.fromEntries(Object.entries(ops).sort((x, y) => y[1].bytes - x[1].bytes).map(([op, c]) => [op, {
    dispatchesPerToken: c.dispatches / n, workgroupSize: c.workgroupSize, workgroupsPerToken: c.workgroups / n, bytesPerToken: c.bytes / n,
  }]));
}

/**
 * Top-k of k over `vocab` random logits (ties included), reps times, against the same submit and
 * 8-byte read-back alone: the difference is the kernels' time, which the share compares with a step.
 */
export async function timeTopK(b: WebGPUBackend, vocab: number, k: number, stepMs: number, reps = 10): Promise<GpuFigures['topK']> {
  const rng = new Rng(99);
  const x = b.alloc(vocab);
  try {
    b.write(x, Float32Array.from({ length: vocab }, () => Math.round((rng.nextFloat() * 2 - 1) * 80) / 4));
    await b.topK(x, k); // compile
    await b.read(x, 0, 2);
    const d0 = b.stats().dispatches;
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) await b.topK(x, k);
    const ms = (performance.now() - t0) / reps;
    const dispatches = (b.stats().dispatches - d0) / reps;
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await b.read(x, 0, 2);
    const roundTripMs = (performance.now() - t0) / reps;
    return { k, vocab, levels: topKLevels(vocab, k).length, dispatches, ms, roundTripMs, shareOfDecodeStep: Math.max(0, ms - roundTripMs) / stepMs };
  } finally {
    b.free(x);
  }
}

export function limits(c: GPUCaps): GpuFigures['limits'] {
  const { adapter: _a, shaderF16: _f, subgroups: _s, subgroupSizes: _z, ...rest } = c;
  return rest;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;

/** The text rows of the figures. */
export function gpuRows(g: GpuFigures): [string, string][] {
  const t = g.perToken;
  const rows: [string, string][] = [
    ['adapter', `${g.adapter}${g.features.shaderF16 ? ', shader-f16' : ''}${g.features.subgroups ? ', subgroups' : ''}`],
    ['adapter limits', `${g.limits.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ${g.limits.maxComputeWorkgroupStorageSize} B workgroup memory, `
      + `${g.limits.maxComputeWorkgroupsPerDimension} workgroups/dimension, binding ${mib(g.limits.maxStorageBufferBindingSize)}`],
    [`GPU work, prefill`, `${g.prefill.dispatches} dispatches, ${g.prefill.submits} submits for ${g.prefill.tokens} tokens`],
    [`GPU work, per token`, `${t.dispatches.toFixed(1)} dispatches, ${t.submits.toFixed(1)} submits`],
    ['bytes read per token', `${mib(t.weightBytes + t.kvBytes + t.activationBytes)}: weights ${mib(t.weightBytes)} `
      + `(${((100 * t.weightBytes) / g.modelWeightBytes).toFixed(1)}% of the model's ${mib(g.modelWeightBytes)}), KV ${mib(t.kvBytes)}, activations ${mib(t.activationBytes)}`],
    [`top-k (k ${g.topK.k}, V ${g.topK.vocab})`, `${g.topK.ms.toFixed(2)} ms with its read-back (${g.topK.roundTripMs.toFixed(2)} ms alone), `
      + `${g.topK.dispatches} dispatches; ${(100 * g.topK.shareOfDecodeStep).toFixed(1)}% of a decode step`],
    ['kernels per token', 'dispatches × workgroup size → workgroups, bytes read'],
  ];
  for (const [op, k] of Object.entries(g.kernels)) {
    rows.push([`  ${op}`, `${k.dispatchesPerToken.toFixed(1)} × ${k.workgroupSize} → ${k.workgroupsPerToken.toFixed(0)}, ${mib(k.bytesPerToken)}`]);
  }
  return rows;
}
