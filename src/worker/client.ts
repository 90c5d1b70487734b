// The UI's handle on the engine worker: Comlink.wrap plus an OpenAI-style streaming facade.
// Callbacks cross as Comlink proxies; an AbortSignal becomes abort(requestId) in the worker.
import * as Comlink from 'comlink';
import type {
  ChatCompletionChunk, ChatCompletionParams, EngineClient, EngineWorkerApi,
} from './api.ts';

export function createEngineClient(worker?: Worker): EngineClient {
  const w = worker ?? new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  const remote = Comlink.wrap<EngineWorkerApi>(w);
  const cb = <T>(fn?: (v: T) => void) => (fn ? Comlink.proxy(fn) : undefined);
  return {
    kind: 'local',
    capabilities: () => remote.capabilities(),
    loadModel: (ref, opts = {}, onProgress) => remote.loadModel(ref, opts, cb(onProgress)),
    unloadModel: () => remote.unloadModel(),
    loadedModel: () => remote.loadedModel(),
    listModels: () => remote.listModels(),
    deleteModel: (id) => remote.deleteModel(id),
    importFiles: (files, onProgress) => remote.importFiles(files, cb(onProgress)),
    importFolder: (req, onProgress) => remote.importFolder(req, cb(onProgress)),
    cancelImport: (id) => remote.cancelImport(id),
    exportModel: (id, fileIndex) => remote.exportModel(id, fileIndex),
    download: (req, onProgress) => remote.download(req, cb(onProgress)),
    pauseDownload: (id) => remote.pauseDownload(id),
    fitModel: (source, opts) => remote.fitModel(source, opts),
    chat: {
      completions: {
        create: (params, opts = {}) => streamCompletion(remote, params, opts.signal),
      },
    },
  };
}

let nextId = 0;

async function* streamCompletion(remote: Comlink.Remote<EngineWorkerApi>, params: ChatCompletionParams,
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
  remote.completion(id, params, Comlink.proxy(onChunk)).catch((error: unknown) => {
    failure = { error };
    notify();
  });
  const onAbort = (): void => void remote.abort(id);
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
