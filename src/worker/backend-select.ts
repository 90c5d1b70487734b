// Picks the device for a model. 'auto' takes WebGPU on a hardware adapter and WASM otherwise: a
// software adapter (SwiftShader, the fallback adapter) emulates the GPU on the CPU and is slower
// than the WASM SIMD kernels. WASM threads need cross-origin isolation; without it the
// single-thread build runs.
import type { Backend } from '../backends/backend.ts';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { createWebGPUBackend } from '../backends/webgpu/webgpu-backend.ts';
import type { BackendName, GpuFallback, LoadOptions } from './api.ts';
import { sharedMemoryUsable } from './capabilities.ts';

export interface BackendPlan {
  /** the backends to try, in order */
  order: BackendName[];
  /** for 'auto' without the GPU in `order`: why */
  fallback?: GpuFallback;
}

/** Undefined when a hardware WebGPU adapter is present; otherwise why the GPU is not worth trying. */
export async function probeGPU(): Promise<GpuFallback | undefined> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
  if (!gpu) return { kind: 'no-webgpu' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { kind: 'no-adapter' };
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
    const soft = /swiftshader|llvmpipe|lavapipe|software/i.test(name);
    return info.isFallbackAdapter || soft ? { kind: 'software-adapter', adapter: name || 'fallback adapter' } : undefined;
  } catch (e) {
    return { kind: 'device-failed', message: (e as Error).message };
  }
}

/** The backends to try in order: an explicit choice, or for 'auto' WebGPU (if real) then WASM. */
export async function backendOrder(opts: LoadOptions, probe = probeGPU): Promise<BackendPlan> {
  const wanted = opts.backend ?? 'auto';
  if (wanted !== 'auto') return { order: [wanted] };
  const fallback = await probe();
  return fallback ? { order: ['wasm'], fallback } : { order: ['webgpu', 'wasm'] };
}

export async function createBackend(name: BackendName, opts: LoadOptions): Promise<Backend> {
  if (name === 'webgpu') return createWebGPUBackend();
  const threads = sharedMemoryUsable() ? opts.threads ?? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;
  return createWasmBackend({ threads, maxMemoryBytes: opts.maxMemoryBytes });
}
