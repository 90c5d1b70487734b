// Builds one loaded model: opens its bytes, loads it on the best backend (WebGPU, else WASM) and
// records why the GPU was not used when 'auto' ended on WASM. Holds no state: the engine service
// decides when a model replaces another.
import type { Backend } from '../backends/backend.ts';
import type { TemplateChoice } from '../engine/chat-template.ts';
import { chooseTemplate, hasThinkingToggle } from '../engine/chat.ts';
import { loadModelInput, type LoadedModel, type ModelInput } from '../engine/load.ts';
import { EngineError } from '../shared/errors.ts';
import type { BackendName, Callback, GpuFallback, LoadedModelInfo, LoadOptions, LoadProgress, ModelRef } from './api.ts';
import { backendOrder, createBackend, type BackendPlan } from './backend-select.ts';
import { templateLabel } from './chat.ts';
import { openBundled, type ModelStore, type OpenedModel } from './model-store.ts';

/** Seams for tests; the defaults are the real engine and device. */
export interface LoaderDeps {
  loadModel: typeof loadModelInput;
  createBackend: (name: BackendName, opts: LoadOptions) => Promise<Backend>;
  backendOrder: (opts: LoadOptions) => Promise<BackendPlan>;
}

export const defaultDeps: LoaderDeps = { loadModel: loadModelInput, createBackend, backendOrder: (opts) => backendOrder(opts) };

export interface Built {
  model: LoadedModel;
  backend: Backend;
  template: TemplateChoice | null;
  info: LoadedModelInfo;
  /** opens the model's bytes again (a reload on another backend) */
  input: () => Promise<ModelInput>;
}

/** Memory that a previously loaded model holds might be what this load lacked. */
export function outOfMemory(e: unknown): boolean {
  return (e instanceof EngineError && e.code === 'OUT_OF_MEMORY') || e instanceof RangeError;
}

async function open(store: ModelStore, ref: ModelRef, onProgress?: Callback<LoadProgress>): Promise<OpenedModel> {
  if (ref.kind === 'stored') return store.open(ref.id);
  onProgress?.({ phase: 'fetch', loaded: 0, total: 0 });
  const sources = [await openBundled(ref.url, ref.name, ref.sha256)];
  return { name: ref.name, input: async () => sources };
}

/** Tries each backend in order; a WebGPU failure (no device, out of memory) falls back to WASM and says why. */
export async function loadOnBestBackend(deps: LoaderDeps, input: () => Promise<ModelInput>, opts: LoadOptions,
  onProgress?: Callback<LoadProgress>): Promise<{ model: LoadedModel; backend: Backend; gpuFallback?: GpuFallback }> {
  const { order, fallback } = await deps.backendOrder(opts);
  let gpuFallback = fallback;
  for (let i = 0; ; i++) {
    let backend: Backend | undefined;
    try {
      backend = await deps.createBackend(order[i], opts);
      const model = await deps.loadModel(await input(), backend, {
        nCtx: opts.nCtx, kvType: opts.kvType, maxMemoryBytes: opts.maxMemoryBytes,
        onProgress: (p) => onProgress?.({ phase: 'weights', loaded: p.loadedBytes, total: p.totalBytes }),
      });
      return { model, backend, ...(order[i] === 'wasm' && gpuFallback ? { gpuFallback } : {}) };
    } catch (e) {
      backend?.dispose();
      if (i + 1 >= order.length) throw e;
      if (order[i] === 'webgpu') {
        const message = (e as Error)?.message ?? String(e);
        gpuFallback = backend
          ? { kind: 'load-failed', message, ...(e instanceof EngineError ? { code: e.code } : {}) }
          : { kind: 'device-failed', message };
      }
    }
  }
}

export async function buildModel(deps: LoaderDeps, store: ModelStore, ref: ModelRef, opts: LoadOptions,
  onProgress?: Callback<LoadProgress>): Promise<Built> {
  const t0 = performance.now();
  const { name, input } = await open(store, ref, onProgress);
  const { model, backend, gpuFallback } = await loadOnBestBackend(deps, input, opts, onProgress);
  try {
    const template = chooseTemplate(model);
    const info: LoadedModelInfo = {
      ref, name, arch: model.h.arch,
      contextLength: model.decoder.opts.nCtx,
      vocabSize: model.h.vocabSize,
      template: templateLabel(template),
      thinkingToggle: hasThinkingToggle(model, template),
      samplingDefaults: { ...model.samplingDefaults },
      backend: backend.name,
      threads: backend.threads,
      loadMs: performance.now() - t0,
      ...(gpuFallback ? { gpuFallback } : {}),
    };
    return { model, backend, template, info, input };
  } catch (e) {
    await model.dispose().catch(() => {});
    throw e;
  }
}
