// The engine worker's implementation of EngineWorkerApi: one loaded model with one Session (so
// follow-up turns reuse the KV cache), generations run one at a time, aborted by request id.
// A new model is loaded fully next to the current one and only then replaces it, so a load that
// fails (unsupported, corrupt, out of memory, GPU failure) leaves the previous model answering.
import { releaseProxy } from 'comlink';
import type { TemplateChoice } from '../engine/chat-template.ts';
import type { LoadedModel, ModelInput } from '../engine/load.ts';
import { Session } from '../engine/session.ts';
import { EngineError } from '../shared/errors.ts';
import type {
  Callback, Capabilities, ChatCompletionChunk, ChatCompletionParams, DownloadRequest, EngineWorkerApi, ExportedFile,
  FitInfo, FolderImportProgress, FolderImportRequest, FitOptions, FitSource, LoadedModelInfo, LoadOptions, LoadProgress, ModelRef, PreviousModel, StoredModel, TransferProgress,
} from './api.ts';
import { capabilities } from './capabilities.ts';
import { fitModelSource } from './fit.ts';
import { chatCompletionChunks, type ChatTarget } from './chat.ts';
import { holdModelInUse } from '../storage/model-lock.ts';
import { holdAliveLock } from './liveness.ts';
import { buildModel, defaultDeps, outOfMemory, type LoaderDeps } from './model-loader.ts';
import { ModelStore } from './model-store.ts';

interface Loaded {
  model: LoadedModel;
  session: Session;
  template: TemplateChoice | null;
  info: LoadedModelInfo;
  /** what it was loaded with, to load it again if a bigger model did not fit next to it */
  opts: LoadOptions;
  /** gives back the stored model's in-use lock (a delete in another tab is refused while held) */
  releaseUse: () => void;
}

/** Comlink proxies hold a MessagePort each; free it once a call is over. */
function release(cb: unknown): void {
  (cb as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy]?.();
}

/** Tells the UI, with the error, what became of the model loaded before (LoadFailureInfo). */
function withPrevious(e: unknown, previous: PreviousModel | undefined): unknown {
  if (previous && e instanceof Error) Object.assign(e, { previous });
  return e;
}

export class EngineService implements EngineWorkerApi {
  private loaded: Loaded | null = null;
  private loading: Promise<unknown> = Promise.resolve();
  private readonly store = new ModelStore();
  private readonly requests = new Map<string, AbortController>();
  /** generations share the session's KV cache, so they run strictly one after another */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: LoaderDeps = defaultDeps) {}

  capabilities(): Promise<Capabilities> {
    return capabilities();
  }

  async ping(): Promise<void> {}

  holdAliveLock(name: string): Promise<void> {
    return holdAliveLock(name);
  }

  async loadModel(ref: ModelRef, opts: LoadOptions, onProgress?: Callback<LoadProgress>): Promise<LoadedModelInfo> {
    const run = this.loading.catch(() => {}).then(() => this.doLoad(ref, opts, onProgress));
    this.loading = run;
    try {
      return await run;
    } finally {
      release(onProgress);
    }
  }

  private async doLoad(ref: ModelRef, opts: LoadOptions, onProgress?: Callback<LoadProgress>): Promise<LoadedModelInfo> {
    // a switch stops the answer now (within one batch of a long prompt), not once the new model is in
    for (const c of this.requests.values()) c.abort();
    const prev = this.loaded;
    let next: Loaded;
    try {
      next = await this.build(ref, opts, onProgress);
    } catch (e) {
      if (!prev || !outOfMemory(e)) throw withPrevious(e, prev ? 'kept' : undefined);
      // Memory could not hold both: the previous model makes room, and comes back if this fails too.
      await this.unloadModel();
      try {
        next = await this.build(ref, opts, onProgress);
      } catch (e2) {
        throw withPrevious(e2, await this.restore(prev));
      }
    }
    await this.replace(next);
    return next.info;
  }

  private async build(ref: ModelRef, opts: LoadOptions, onProgress?: Callback<LoadProgress>): Promise<Loaded> {
    const b = await buildModel(this.deps, this.store, ref, opts, onProgress);
    const releaseUse = ref.kind === 'stored' ? holdModelInUse(ref.id) : () => {};
    const entry: Loaded = { model: b.model, session: undefined as never, template: b.template, info: b.info, opts, releaseUse };
    entry.session = new Session(b.model, b.backend.name === 'wasm' ? undefined : (e) => this.recoverOnWasm(entry, e, b.input));
    return entry;
  }

  private async restore(prev: Loaded): Promise<PreviousModel> {
    try {
      await this.replace(await this.build(prev.info.ref, prev.opts));
      return 'reloaded';
    } catch {
      return 'lost';
    }
  }

  /** Makes `next` the loaded model; answers still running on the previous one stop first. */
  private async replace(next: Loaded): Promise<void> {
    const prev = this.loaded;
    for (const c of this.requests.values()) c.abort();
    await this.queue.catch(() => {});
    this.loaded = next;
    prev?.releaseUse();
    await prev?.model.dispose().catch(() => {});
  }

  /** The GPU failed mid-answer (device lost, out of memory): the same model on WASM; the session rebuilds its cache. */
  private async recoverOnWasm(entry: Loaded, e: EngineError, input: () => Promise<ModelInput>): Promise<LoadedModel> {
    console.warn(`${e.message}; continuing on the WASM backend`);
    await entry.model.dispose().catch(() => {});
    const wasm = await this.deps.createBackend('wasm', entry.opts);
    entry.model = await this.deps.loadModel(await input(), wasm, { nCtx: entry.opts.nCtx, kvType: entry.opts.kvType, maxMemoryBytes: entry.opts.maxMemoryBytes });
    entry.info = { ...entry.info, backend: wasm.name, threads: wasm.threads, gpuFallback: { kind: 'gpu-lost', message: e.message } };
    return entry.model;
  }

  async unloadModel(): Promise<void> {
    const cur = this.loaded;
    if (!cur) return;
    for (const c of this.requests.values()) c.abort();
    await this.queue.catch(() => {});
    this.loaded = null;
    cur.releaseUse();
    await cur.model.dispose();
  }

  async loadedModel(): Promise<LoadedModelInfo | null> {
    return this.loaded?.info ?? null;
  }

  listModels(): Promise<StoredModel[]> {
    return this.store.list();
  }

  async deleteModel(id: string): Promise<void> {
    const ref = this.loaded?.info.ref;
    if (ref?.kind === 'stored' && ref.id === id) await this.unloadModel();
    await this.store.delete(id);
  }

  async importFiles(files: File[], onProgress?: Callback<TransferProgress>): Promise<StoredModel> {
    try {
      return await this.store.importFiles(files, onProgress);
    } finally {
      release(onProgress);
    }
  }

  async importFolder(req: FolderImportRequest, onProgress?: Callback<FolderImportProgress>): Promise<StoredModel> {
    try {
      return await this.store.importFolder(req, onProgress);
    } finally {
      release(onProgress);
    }
  }

  async cancelImport(importId: string): Promise<void> {
    this.store.cancelImport(importId);
  }

  exportModel(id: string, fileIndex?: number): Promise<ExportedFile> {
    return this.store.exportFile(id, fileIndex);
  }

  async download(req: DownloadRequest, onProgress?: Callback<TransferProgress>): Promise<StoredModel> {
    try {
      return await this.store.download(req, onProgress);
    } finally {
      release(onProgress);
    }
  }

  async pauseDownload(id: string): Promise<void> {
    this.store.pause(id);
  }

  fitModel(source: FitSource, opts?: FitOptions): Promise<FitInfo> {
    return fitModelSource(source, this.store, opts);
  }

  async completion(requestId: string, params: ChatCompletionParams, onChunk: Callback<ChatCompletionChunk>): Promise<void> {
    const ctrl = new AbortController();
    this.requests.set(requestId, ctrl);
    const run = this.queue.catch(() => {}).then(() => this.generate(requestId, params, ctrl.signal, onChunk));
    this.queue = run;
    try {
      await run;
    } finally {
      this.requests.delete(requestId);
      release(onChunk);
    }
  }

  async abort(requestId: string): Promise<void> {
    this.requests.get(requestId)?.abort();
  }

  private async generate(id: string, params: ChatCompletionParams, signal: AbortSignal,
    onChunk: Callback<ChatCompletionChunk>): Promise<void> {
    const cur = this.loaded;
    if (!cur) throw new EngineError('BAD_ARGUMENT', 'No model is loaded: pick one in the model manager first.');
    const target: ChatTarget = {
      session: cur.session, template: cur.template, model: cur.info.name,
      // cur.info at the end, not now: a GPU failure during this answer may have moved the model to WASM
      backend: () => cur.info,
    };
    for await (const c of chatCompletionChunks(target, id, params, signal)) onChunk(c);
  }
}
