// Picks the device for a model. WASM always works (threads only when the page is cross-origin
// isolated; otherwise the single-thread build). The WebGPU backend plugs in here once it exists.
import type { Backend } from '../backends/backend.ts';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { EngineError } from '../shared/errors.ts';
import type { LoadOptions } from './api.ts';
import { sharedMemoryUsable } from './capabilities.ts';

export async function createBackend(opts: LoadOptions): Promise<Backend> {
  const wanted = opts.backend ?? 'auto';
  if (wanted === 'webgpu') {
    throw new EngineError('BACKEND', 'The WebGPU backend is not part of this build yet; choose WASM or Auto.');
  }
  const threads = sharedMemoryUsable() ? opts.threads ?? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;
  return createWasmBackend({ threads });
}
