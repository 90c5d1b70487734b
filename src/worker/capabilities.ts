// What this device offers: WebGPU adapter and limits, threads, storage. Runs in the worker, where
// navigator.gpu, navigator.storage and crossOriginIsolated are all available.
import type { Capabilities } from './api.ts';
import { memoryBudget } from './fit.ts';

const LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage',
] as const;

async function webgpuInfo(): Promise<Capabilities['webgpu']> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, f16: false, reason: 'This browser does not expose WebGPU.' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, f16: false, reason: 'No WebGPU adapter was found.' };
    const info = adapter.info;
    const limits: Record<string, number> = {};
    for (const k of LIMITS) limits[k] = Number(adapter.limits[k]);
    return {
      available: true,
      adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
      f16: adapter.features.has('shader-f16'),
      limits,
    };
  } catch (e) {
    return { available: false, f16: false, reason: `WebGPU failed: ${(e as Error).message}` };
  }
}

async function storageInfo(): Promise<Capabilities['storage']> {
  const s = navigator.storage;
  let usage: number | undefined;
  let quota: number | undefined;
  let persisted: boolean | null = null;
  try {
    ({ usage, quota } = await s.estimate());
  } catch { /* no estimate in this browser */ }
  try {
    persisted = await s.persisted();
  } catch { /* unknown */ }
  return { usage, quota, persisted };
}

export function sharedMemoryUsable(): boolean {
  return typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
}

export async function capabilities(): Promise<Capabilities> {
  const [webgpu, storage] = await Promise.all([webgpuInfo(), storageInfo()]);
  return {
    webgpu,
    threads: {
      hardware: navigator.hardwareConcurrency || 1,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      sharedMemory: sharedMemoryUsable(),
    },
    storage,
    memory: memoryBudget(),
  };
}
