// Picks the device for a model. 'auto' takes WebGPU on a hardware adapter and WASM otherwise: a
// software adapter (SwiftShader, the fallback adapter) emulates the GPU on the CPU and is slower
// than the WASM SIMD kernels. WASM threads need cross-origin isolation; without it the
// single-thread build runs.
import type { Backend } from '../backends/backend.ts';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { createWebGPUBackend } from '../backends/webgpu/webgpu-backend.ts';
import type { BackendName, LoadOptions } from './api.ts';
import { sharedMemoryUsable } from './capabilities.ts';

/** Whether a real (hardware) WebGPU adapter is present. */
async function hardwareGPU(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return false;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return false;
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const soft = /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
    return !info.isFallbackAdapter && !soft;
  } catch {
    return false;
  }
}

/** The backends to try in order: an explicit choice, or for 'auto' WebGPU (if real) then WASM. */
export async function backendOrder(opts: LoadOptions): Promise<BackendName[]> {
  const wanted = opts.backend ?? 'auto';
  if (wanted !== 'auto') return [wanted];
  return (await hardwareGPU()) ? ['webgpu', 'wasm'] : ['wasm'];
}

export async function createBackend(name: BackendName, opts: LoadOptions): Promise<Backend> {
  if (name === 'webgpu') return createWebGPUBackend();
  const threads = sharedMemoryUsable() ? opts.threads ?? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;
  return createWasmBackend({ threads });
}
