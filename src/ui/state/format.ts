// Human-readable numbers, errors and reasons for the UI.
import type { GpuFallback, PreviousModel } from '../../worker/api.ts';

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function formatEta(sec: number): string {
  if (!Number.isFinite(sec)) return '—';
  if (sec < 60) return `${Math.ceil(sec)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
  return `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`;
}

export function formatRate(tokPerSec: number): string {
  return tokPerSec >= 100 ? tokPerSec.toFixed(0) : tokPerSec.toFixed(1);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why the GPU was not used, in a sentence (the device panel) and in a few words (next to the stats). */
export function gpuFallbackText(f: GpuFallback): { short: string; long: string } {
  switch (f.kind) {
    case 'no-webgpu': return { short: 'no WebGPU', long: 'This browser does not offer WebGPU.' };
    case 'no-adapter': return { short: 'no GPU adapter', long: 'WebGPU found no GPU adapter.' };
    case 'software-adapter':
      return { short: 'software GPU only', long: `The only GPU adapter (${f.adapter}) emulates a GPU on the CPU, which is slower than the WASM kernels.` };
    case 'device-failed': return { short: 'GPU refused a device', long: `The GPU adapter could not be started: ${f.message}` };
    case 'load-failed': return { short: 'model failed on the GPU', long: `The model failed to load on the GPU: ${f.message}` };
    case 'gpu-lost': return { short: 'GPU failed', long: `The GPU failed during an answer, so the model moved to WASM: ${f.message}` };
  }
}

/** Codes of files refused from their header: nothing of them was stored. */
const REFUSED = /^(UNSUPPORTED_|SPLIT_|GGUF_)|^(MISSING_TENSOR|BAD_SHAPE|TOKENIZER)$/;

/** An import or download error; refusals say that nothing was stored. */
export function transferErrorText(e: unknown): string {
  const code = errorCode(e);
  return code && REFUSED.test(code) ? `${errorMessage(e)} Nothing was stored.` : errorMessage(e);
}

/** A failed load, and what became of the model loaded before it (the worker's LoadFailureInfo). */
export function loadErrorText(name: string, e: unknown, previousName: string | undefined): string {
  const previous = (e as { previous?: PreviousModel } | null)?.previous;
  const text = `${name} could not be loaded: ${errorMessage(e)}`;
  if (!previousName || !previous) return text;
  if (previous === 'kept') return `${text} ${previousName} is still loaded.`;
  if (previous === 'reloaded') return `${text} Memory could not hold both models, so ${previousName} was unloaded and has been loaded again.`;
  return `${text} ${previousName} was unloaded to make room and could not be loaded again.`;
}
