// "Will it fit?" from the header alone: the memory estimate (memory.ts) of a model at a context and
// KV type, against what a device offers — its memory, the 4 GiB a wasm32 heap can address, the
// WebGPU adapter's buffer limits. One of four answers: fits; fits with a shorter context (the
// largest that does); fits only with layer streaming (residency.ts decides which layers stay, and
// the decode speed is bounded by streamed bytes per token over an assumed read bandwidth); does not
// fit (needs A, has B).
import type { KVType } from '../backends/kv-layout.ts';
import { WASM32_MAX_BYTES } from '../backends/wasm/heap.ts';
import { EngineError } from '../shared/errors.ts';
import type { ArchSpec } from './arch.ts';
import type { HParams } from './hparams.ts';
import { defaultContext, estimateWasm, estimateWebGPU, type MemoryEstimate } from './memory.ts';
import { planResidency } from './residency.ts';
import type { ModelHeader } from './support.ts';

export type FitVerdict = 'fits' | 'fits-with-ctx' | 'needs-streaming' | 'does-not-fit';

/** What a device offers a model. */
export interface DeviceBudget {
  /** memory the model may take (host RAM; on shared-memory boards the GPU's too) */
  memoryBytes: number;
  /** WebGPU adapter limits; absent = 128 MiB binding, 256 MiB buffer (WebGPU's guaranteed minimums are lower; boards give these) */
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}

export interface FitOptions {
  backend: 'wasm' | 'webgpu';
  /** default: the loader's (min(training context, 4096)) */
  nCtx?: number;
  kvType?: KVType;
  /** WASM kernel threads (default 8) */
  threads?: number;
  /** read bandwidth assumed for streamed layers (default 500 MB/s: a board's eMMC or a browser's IndexedDB) */
  readBytesPerSec?: number;
  /** shortest context worth offering before layer streaming is the answer (default 512, or the asked context if shorter) */
  minUsefulCtx?: number;
}

export interface StreamingEstimate {
  residentLayers: number;
  nLayers: number;
  /** weight bytes held (fixed + resident layers + two streaming slots) */
  heldWeightBytes: number;
  streamedBytesPerToken: number;
  assumedReadBytesPerSec: number;
  /** upper bound: streamedBytesPerToken over the assumed read bandwidth */
  decodeTokensPerSec: number;
}

export interface FitReport {
  verdict: FitVerdict;
  backend: 'wasm' | 'webgpu';
  nCtx: number;
  kvType: KVType;
  weightsBytes: number;
  kvBytes: number;
  scratchBytes: number;
  totalBytes: number;
  /** the largest context (up to the asked one, or the training context when that is larger) that fits with every layer resident; 0 = none */
  maxCtx: number;
  /** the binding limit: the device's memory, or the wasm32 address space when that is smaller */
  budgetBytes: number;
  limitedBy: 'memory' | 'wasm32' | 'gpu-buffer';
  streaming?: StreamingEstimate;
  /** does-not-fit: the least this model needs at this context (streaming), and what there is */
  needsBytes?: number;
  hasBytes?: number;
  estimate: MemoryEstimate;
  /** one line for people */
  message: string;
}

export const DEFAULT_READ_BYTES_PER_SEC = 500e6;
export const DEFAULT_KV_TYPE: KVType = 'f16';
const DEFAULT_BINDING = 128 * 1024 * 1024;
const DEFAULT_BUFFER = 256 * 1024 * 1024;

const gib = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);

interface Limits {
  /** what the backend itself may hold */
  backend: number;
  /** the device's memory, for the whole process */
  memory: number;
  /** WebGPU: no single buffer above this */
  buffer: number;
}

function limitsOf(b: DeviceBudget, backend: FitOptions['backend']): Limits {
  if (!(b.memoryBytes > 0)) throw new EngineError('BAD_ARGUMENT', `A memory budget must be a positive number of bytes (got ${b.memoryBytes}).`);
  if (backend === 'wasm') return { backend: WASM32_MAX_BYTES, memory: b.memoryBytes, buffer: Infinity };
  const buffer = Math.min(b.maxStorageBufferBindingSize ?? DEFAULT_BINDING, b.maxBufferSize ?? DEFAULT_BUFFER);
  return { backend: Infinity, memory: b.memoryBytes, buffer };
}

function fitsIn(e: MemoryEstimate, l: Limits): boolean {
  return e.backendBytes <= l.backend && e.totalBytes <= l.memory && e.largestBufferBytes <= l.buffer;
}

/**
 * The verdict for `header` (checked by checkModelSupport: h, arch) on a device. Contexts are
 * searched by bisection: memory only grows with the context.
 */
export function fitModel(header: ModelHeader, h: HParams, arch: ArchSpec, budget: DeviceBudget, o: FitOptions): FitReport {
  const nCtx = o.nCtx ?? defaultContext(h);
  const kvType = o.kvType ?? DEFAULT_KV_TYPE;
  if (!Number.isInteger(nCtx) || nCtx < 1) throw new EngineError('BAD_ARGUMENT', `Context length must be a positive integer (got ${nCtx}).`);
  const l = limitsOf(budget, o.backend);
  const bindingLimit = o.backend === 'webgpu' ? l.buffer : undefined;
  const estimate = (ctx: number): MemoryEstimate => (o.backend === 'wasm'
    ? estimateWasm(header, h, arch, { nCtx: ctx, kvType, threads: o.threads })
    : estimateWebGPU(header, h, arch, { nCtx: ctx, kvType, bindingLimit }));
  const e = estimate(nCtx);
  const maxCtx = largestFitting(estimate, l, Math.max(nCtx, h.nCtxTrain));
  const budgetBytes = Math.min(l.memory, l.backend);
  const limitedBy: FitReport['limitedBy'] = e.largestBufferBytes > l.buffer ? 'gpu-buffer' : l.backend < l.memory ? 'wasm32' : 'memory';
  const base = { backend: o.backend, nCtx, kvType, weightsBytes: e.weightsBytes, kvBytes: e.kvBytes, scratchBytes: e.scratchBytes,
    totalBytes: e.totalBytes, maxCtx, budgetBytes, limitedBy, estimate: e };
  if (maxCtx >= nCtx) return { ...base, verdict: 'fits', message: `fits: ${gib(e.totalBytes)} of ${gib(budgetBytes)} at a context of ${nCtx}` };
  const minCtx = Math.min(o.minUsefulCtx ?? 512, nCtx);
  if (maxCtx >= minCtx) {
    return { ...base, verdict: 'fits-with-ctx', message: `fits with a context of at most ${maxCtx} (${nCtx} needs ${gib(e.totalBytes)}, the limit is ${gib(budgetBytes)})` };
  }
  // Streaming: what is not weights stays as it is; the weights get what is left.
  const host = e.tokenizerBytes + e.loadTransientBytes;
  const nonWeight = e.backendBytes - e.weightsBytes;
  const rounding = e.weightsBytes - e.fixedWeightBytes - e.layerBytes.reduce((a, b) => a + b, 0);
  const weightBudget = Math.min(l.backend, l.memory - host) - nonWeight - rounding;
  const plan = planResidency(e.layerBytes, e.fixedWeightBytes, weightBudget);
  const slot = Math.max(0, ...e.layerBytes);
  // a streaming plan that keeps every layer means weights were never the problem (a too-large GPU buffer was)
  if (plan && plan.streamedBytesPerPass > 0) {
    const read = o.readBytesPerSec ?? DEFAULT_READ_BYTES_PER_SEC;
    const resident = plan.resident.filter(Boolean).length;
    const streaming: StreamingEstimate = {
      residentLayers: resident, nLayers: h.nLayers, heldWeightBytes: plan.heldBytes,
      streamedBytesPerToken: plan.streamedBytesPerPass, assumedReadBytesPerSec: read,
      decodeTokensPerSec: read / plan.streamedBytesPerPass,
    };
    return { ...base, verdict: 'needs-streaming', streaming,
      message: `needs layer streaming: ${resident} of ${h.nLayers} layers resident, ${(plan.streamedBytesPerPass / 2 ** 20).toFixed(0)} MiB read per token ` +
        `(≤ ${streaming.decodeTokensPerSec.toFixed(2)} tok/s at an assumed ${(read / 1e6).toFixed(0)} MB/s); the model needs ${gib(e.totalBytes)}, the limit is ${gib(budgetBytes)}` };
  }
  const needsBytes = e.fixedWeightBytes + 2 * slot + nonWeight + rounding + host;
  const hasBytes = l.backend < l.memory - host ? l.backend + host : l.memory;
  if (limitedBy === 'gpu-buffer') {
    return { ...base, verdict: 'does-not-fit', needsBytes: e.largestBufferBytes, hasBytes: l.buffer,
      message: `does not fit: needs a GPU buffer of ${gib(e.largestBufferBytes)}, has ${gib(l.buffer)} (the adapter's largest binding)` };
  }
  return { ...base, verdict: 'does-not-fit', needsBytes, hasBytes,
    message: `does not fit: needs ${gib(needsBytes)} even with layer streaming at a context of ${nCtx}, has ${gib(hasBytes)}` };
}

/** The largest context in [1, upTo] that fits, 0 if none does. */
function largestFitting(estimate: (ctx: number) => MemoryEstimate, l: Limits, upTo: number): number {
  if (fitsIn(estimate(upTo), l)) return upTo;
  let lo = 0, hi = upTo; // fits(lo) (or lo = 0), !fits(hi)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fitsIn(estimate(mid), l)) lo = mid; else hi = mid;
  }
  return lo;
}

/** The JSON line of `fit --json` (README contract). */
export function fitJson(r: FitReport): Record<string, unknown> {
  return {
    verdict: r.verdict, weightsBytes: r.weightsBytes, kvBytes: r.kvBytes, scratchBytes: r.scratchBytes, totalBytes: r.totalBytes,
    maxCtx: r.maxCtx, backend: r.backend, nCtx: r.nCtx, kvType: r.kvType, budgetBytes: r.budgetBytes, limitedBy: r.limitedBy,
    ...(r.streaming ? { streaming: r.streaming } : {}),
    ...(r.needsBytes !== undefined ? { needsBytes: r.needsBytes, hasBytes: r.hasBytes } : {}),
  };
}

/** A device and what to ask of it: the backends it may use (the first one wins ties). */
export interface FitRequest {
  budget: DeviceBudget;
  backends: readonly ('wasm' | 'webgpu')[];
  nCtx?: number;
  kvType?: KVType;
  threads?: number;
}

const RANK: Record<FitVerdict, number> = { fits: 0, 'fits-with-ctx': 1, 'needs-streaming': 2, 'does-not-fit': 3 };

/** The best verdict among the request's backends. */
export function fitOnDevice(header: ModelHeader, h: HParams, arch: ArchSpec, req: FitRequest): FitReport {
  if (req.backends.length === 0) throw new EngineError('BAD_ARGUMENT', 'A fit request needs at least one backend.');
  const reports = req.backends.map((backend) => fitModel(header, h, arch, req.budget,
    { backend, nCtx: req.nCtx, kvType: req.kvType, threads: req.threads }));
  return reports.reduce((best, r) => (RANK[r.verdict] < RANK[best.verdict] ? r : best));
}

/** Throws DOES_NOT_FIT (needs A, has B) when the verdict is does-not-fit: a download or import stops here. */
export function refuseIfTooLarge(r: FitReport, what: string): FitReport {
  if (r.verdict === 'does-not-fit') {
    throw new EngineError('DOES_NOT_FIT', `${what} cannot run on this device: it ${r.message.replace(/^does not fit: /, '')}.`);
  }
  return r;
}
