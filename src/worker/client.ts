// The UI's handle on the engine worker: Comlink.wrap plus an OpenAI-style streaming facade.
// Callbacks cross as Comlink proxies; an AbortSignal becomes abort(requestId) in the worker.
// When the worker dies (supervisor.ts), the calls it held reject with WORKER_LOST, a new worker
// starts and loads the model the old one had (same ref, same backend and options), within the
// bounds of RestartPolicy; EngineEvents tell the UI how that goes.
import * as Comlink from 'comlink';
import type {
  ChatCompletionChunk, ChatCompletionParams, EngineClient, EngineEvent, LoadedModelInfo, LoadFailureInfo, LoadOptions, ModelRef,
} from './api.ts';
import { RestartPolicy } from './restart-policy.ts';
import { WorkerSupervisor, type WorkerHandle } from './supervisor.ts';

export interface EngineClientOptions {
  spawn?: (name: string) => Worker;
  policy?: RestartPolicy;
  pingEveryMs?: number;
  hangAfterMs?: number;
}

function spawnEngineWorker(name: string): Worker {
  return new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name });
}

const isLost = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'WORKER_LOST';

export function createEngineClient(options: EngineClientOptions = {}): EngineClient {
  const policy = options.policy ?? new RestartPolicy();
  const listeners = new Set<(e: EngineEvent) => void>();
  const emit = (e: EngineEvent): void => { for (const l of listeners) l(e); };
  /** the model the worker has loaded, to load on the next worker if this one dies */
  let model: { ref: ModelRef; opts: LoadOptions; name: string } | null = null;

  const sup = new WorkerSupervisor({
    spawn: options.spawn ?? spawnEngineWorker,
    pingEveryMs: options.pingEveryMs,
    hangAfterMs: options.hangAfterMs,
    onDeath: (reason) => void recover(reason),
  });

  async function recover(reason: string): Promise<void> {
    const decision = policy.onDeath();
    const lost = model;
    if (decision === 'stop') {
      const message = `The engine stopped again right after a restart (${reason}), so it is not started any more. Reload the page to try again.`;
      sup.stop(message);
      model = null;
      emit({ kind: 'stopped', message });
      return;
    }
    sup.restart();
    if (decision === 'bare' || !lost) {
      model = null;
      if (decision === 'bare') {
        emit({
          kind: 'gave-up', model: lost?.ref,
          message: `The engine stopped ${policy.recentDeaths} times in a row${lost ? ` while running ${lost.name}` : ''} (${reason}). ` +
            'It was restarted without a model: pick another model (or a shorter context) in the model picker.',
        });
      } else emit({ kind: 'restarting', reason });
      emit({ kind: 'ready', loaded: null });
      return;
    }
    emit({ kind: 'restarting', reason, model: lost.ref, name: lost.name });
    try {
      const info: LoadedModelInfo = await sup.call((r) => r.loadModel(lost.ref, lost.opts));
      emit({ kind: 'ready', loaded: info });
    } catch (e) {
      if (isLost(e)) return; // it died again while loading: the next recover() speaks
      model = null;
      emit({ kind: 'ready', loaded: null, error: `${lost.name} could not be loaded again after the restart: ${(e as Error).message}` });
    }
  }

  const cb = <T>(fn?: (v: T) => void) => (fn ? Comlink.proxy(fn) : undefined);
  return {
    kind: 'local',
    onEngineEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    capabilities: () => sup.call((r) => r.capabilities()),
    loadModel: async (ref, opts = {}, onProgress) => {
      try {
        const info = await sup.call((r) => r.loadModel(ref, opts, cb(onProgress)));
        model = { ref, opts, name: info.name };
        return info;
      } catch (e) {
        if ((e as LoadFailureInfo).previous === 'lost') model = null;
        throw e;
      }
    },
    unloadModel: async () => {
      await sup.call((r) => r.unloadModel());
      model = null;
    },
    loadedModel: () => sup.call((r) => r.loadedModel()),
    listModels: () => sup.call((r) => r.listModels()),
    deleteModel: async (id) => {
      await sup.call((r) => r.deleteModel(id));
      if (model?.ref.kind === 'stored' && model.ref.id === id) model = null;
    },
    importFiles: (files, onProgress) => sup.call((r) => r.importFiles(files, cb(onProgress))),
    importFolder: (req, onProgress) => sup.call((r) => r.importFolder(req, cb(onProgress))),
    cancelImport: (id) => sup.call((r) => r.cancelImport(id)),
    exportModel: (id, fileIndex) => sup.call((r) => r.exportModel(id, fileIndex)),
    download: (req, onProgress) => sup.call((r) => r.download(req, cb(onProgress))),
    pauseDownload: (id) => sup.call((r) => r.pauseDownload(id)),
    fitModel: (source, opts) => sup.call((r) => r.fitModel(source, opts)),
    chat: {
      completions: {
        create: (params, opts = {}) => streamCompletion(sup.current(), params, opts.signal),
      },
    },
  };
}

let nextId = 0;

/** Streams one answer from worker `w`; if `w` dies meanwhile, the stream throws WORKER_LOST. */
async function* streamCompletion(w: WorkerHandle, params: ChatCompletionParams,
  signal?: AbortSignal): AsyncGenerator<ChatCompletionChunk> {
  const id = `chatcmpl-${Date.now().toString(36)}-${nextId++}`;
  const queue: ChatCompletionChunk[] = [];
  let wake: (() => void) | null = null;
  let finished = false; // the last chunk (finish_reason set) has arrived
  let failure: { error: unknown } | null = null;
  const notify = (): void => { wake?.(); wake = null; };
  const onChunk = (c: ChatCompletionChunk): void => {
    queue.push(c);
    if (c.choices[0].finish_reason !== null) finished = true;
    notify();
  };
  // Chunks and the call's result travel on different MessagePorts, so their order is not
  // guaranteed: the stream ends at the final chunk, and the result only reports failures.
  w.call((r) => r.completion(id, params, Comlink.proxy(onChunk))).catch((error: unknown) => {
    failure = { error };
    notify();
  });
  const onAbort = (): void => void w.call((r) => r.abort(id)).catch(() => {});
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        if (next.choices[0].finish_reason !== null) return;
        continue;
      }
      if (failure) throw (failure as { error: unknown }).error;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished && !failure) onAbort(); // the consumer stopped reading early
  }
}
