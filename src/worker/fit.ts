// The memory pre-flight in the worker: reads only a model's header (an HTTP range, Blob.slice, the
// stored first bytes) and answers for this device — navigator.deviceMemory, the wasm32 ceiling,
// the WebGPU adapter's buffer limits. Downloads and imports use the same device request, so a
// model that cannot run here is refused before it is stored.
import { WASM32_MAX_BYTES } from '../backends/wasm/heap.ts';
import { blobSource } from '../formats/blob-source.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { GGUFPart } from '../formats/gguf/reader.ts';
import { orderSplitSet } from '../formats/gguf/split-set.ts';
import { fitJson, fitOnDevice, type FitReport, type FitRequest } from '../models/fit.ts';
import { checkModelSupport, type ModelHeader } from '../models/support.ts';
import { readPartHeader } from '../storage/header-check.ts';
import { openRemoteHead } from '../storage/remote-head.ts';
import { EngineError } from '../shared/errors.ts';
import type { FitInfo, FitOptions, FitSource, MemoryBudgetInfo } from './api.ts';
import type { ModelStore } from './model-store.ts';

/** Assumed when the browser does not say (Firefox, Safari): the small boards this app is for. */
const UNKNOWN_DEVICE_BYTES = 4 * 2 ** 30;

export function memoryBudget(): MemoryBudgetInfo {
  const gib = (globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory;
  const deviceMemoryBytes = typeof gib === 'number' && gib > 0 ? gib * 2 ** 30 : undefined;
  return { deviceMemoryBytes, budgetBytes: deviceMemoryBytes ?? UNKNOWN_DEVICE_BYTES, wasm32Bytes: WASM32_MAX_BYTES };
}

/** This device as the pre-flight sees it; WebGPU only when an adapter is there (its limits bound buffers). */
export async function deviceFitRequest(opts: FitOptions = {}): Promise<FitRequest> {
  const budget = { memoryBytes: memoryBudget().budgetBytes } as FitRequest['budget'];
  const want = opts.backend ?? 'auto';
  let webgpu = false;
  if (want !== 'wasm') {
    const adapter = await (globalThis.navigator as Navigator & { gpu?: GPU } | undefined)?.gpu?.requestAdapter().catch(() => null);
    if (adapter) {
      webgpu = true;
      budget.maxBufferSize = Number(adapter.limits.maxBufferSize);
      budget.maxStorageBufferBindingSize = Number(adapter.limits.maxStorageBufferBindingSize);
    }
  }
  const backends = want === 'wasm' || !webgpu ? ['wasm' as const] : want === 'webgpu' ? ['webgpu' as const] : ['webgpu' as const, 'wasm' as const];
  // the WASM backend's default threads here (LoadOptions.threads): logical CPUs, at most 8, when isolated
  const threads = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true ? Math.min(globalThis.navigator?.hardwareConcurrency || 1, 8) : 1;
  return { budget, backends, nCtx: opts.nCtx, kvType: opts.kvType, threads };
}

/** File bytes against the quota left, for a model that would be stored; undefined without an estimate. */
async function storageRoom(neededBytes: number): Promise<FitInfo['storage']> {
  try {
    const est = await globalThis.navigator?.storage?.estimate?.();
    if (!est || est.quota === undefined) return undefined;
    const availableBytes = Math.max(0, est.quota - (est.usage ?? 0));
    return { neededBytes, availableBytes, fits: neededBytes <= availableBytes };
  } catch {
    return undefined;
  }
}

/** A stored model's header: its GGUF parts' headers, or an MLC folder opened as the loader opens it. */
async function storedHeader(id: string, store: ModelStore): Promise<ModelHeader> {
  const input = await (await store.open(id)).input();
  if (!Array.isArray(input) && 'tensors' in input) {
    await input.close();
    return input; // metadata and tensor table stay readable after close
  }
  return joinParts(await Promise.all((Array.isArray(input) ? input : [input]).map((s, i) => readPartHeader(s, i))));
}

function joinParts(parts: GGUFPart[]): ModelHeader {
  const ordered = orderSplitSet(parts);
  return { metadata: ordered[0].metadata, tensors: ordered.flatMap((p) => p.tensors) };
}

async function headerParts(source: Exclude<FitSource, { kind: 'stored' }>): Promise<GGUFPart[]> {
  const read = (srcs: ByteSource[]) => Promise.all(srcs.map((s, i) => readPartHeader(s, i)));
  switch (source.kind) {
    case 'file': return read(source.files.map((f) => blobSource(f, f.name)));
    case 'bundled':
    case 'url': {
      const name = decodeURIComponent(new URL(source.url, globalThis.location?.href).pathname.split('/').pop() || 'model.gguf');
      const head = await openRemoteHead({ url: source.url, name, fetchImpl: (i, init) => fetch(i, init) });
      try {
        if (head.total === undefined) throw new EngineError('IO', `${source.url} did not say how large the file is.`);
        return [await readPartHeader(head.source(head.total))];
      } finally {
        await head.close();
      }
    }
  }
}

export function fitInfo(r: FitReport): FitInfo {
  return { ...(fitJson(r) as Omit<FitInfo, 'message'>), message: r.message };
}

export async function fitModelSource(source: FitSource, store: ModelStore, opts: FitOptions = {}): Promise<FitInfo> {
  if (source.kind === 'stored') {
    const header = await storedHeader(source.id, store);
    const { h, arch } = checkModelSupport(header);
    return fitInfo(fitOnDevice(header, h, arch, await deviceFitRequest(opts)));
  }
  const parts = await headerParts(source);
  const header = joinParts(parts);
  const { h, arch } = checkModelSupport(header);
  const info = fitInfo(fitOnDevice(header, h, arch, await deviceFitRequest(opts)));
  const storage = source.kind === 'url' || source.kind === 'file' ? await storageRoom(parts.reduce((n, p) => n + p.size, 0)) : undefined;
  return storage ? { ...info, storage } : info;
}
