// The engine worker's implementation of EngineWorkerApi: one loaded model with one Session (so
// follow-up turns reuse the KV cache), generations run one at a time, aborted by request id.
import { releaseProxy } from 'comlink';
import type { TemplateChoice } from '../engine/chat-template.ts';
import { loadModel, type LoadedModel } from '../engine/load.ts';
import { Session, type GenerationStats } from '../engine/session.ts';
import type { Backend } from '../backends/backend.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { EngineError } from '../shared/errors.ts';
import type {
  Callback, Capabilities, ChatCompletionChunk, ChatCompletionDelta, ChatCompletionParams, DownloadRequest, EngineWorkerApi,
  FinishReason, LoadedModelInfo, LoadOptions, LoadProgress, ModelRef, StoredModel, TransferProgress,
} from './api.ts';
import { backendOrder, createBackend } from './backend-select.ts';
import { capabilities } from './capabilities.ts';
import { deltaStream, generateOptions, templateLabel } from './chat.ts';
import { buildChatPrompt, chooseTemplate, hasThinkingToggle } from '../engine/chat.ts';
import { ModelStore, openBundled } from './model-store.ts';

interface Loaded {
  model: LoadedModel;
  session: Session;
  template: TemplateChoice | null;
  info: LoadedModelInfo;
}

/** Comlink proxies hold a MessagePort each; free it once a call is over. */
function release(cb: unknown): void {
  (cb as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy]?.();
}

export class EngineService implements EngineWorkerApi {
  private loaded: Loaded | null = null;
  private loading: Promise<unknown> = Promise.resolve();
  private readonly store = new ModelStore();
  private readonly requests = new Map<string, AbortController>();
  /** generations share the session's KV cache, so they run strictly one after another */
  private queue: Promise<unknown> = Promise.resolve();

  capabilities(): Promise<Capabilities> {
    return capabilities();
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
    await this.unloadModel();
    const t0 = performance.now();
    let name: string;
    let sources: ByteSource[];
    if (ref.kind === 'stored') {
      ({ name, sources } = await this.store.open(ref.id));
    } else {
      onProgress?.({ phase: 'fetch', loaded: 0, total: 0 });
      name = ref.name;
      sources = [await openBundled(ref.url, ref.name)];
    }
    const { model, backend } = await this.loadOnBestBackend(sources, opts, onProgress);
    const template = chooseTemplate(model);
    const info: LoadedModelInfo = {
      ref, name, arch: model.h.arch,
      contextLength: model.decoder.opts.nCtx,
      vocabSize: model.h.vocabSize,
      template: templateLabel(template),
      thinkingToggle: hasThinkingToggle(model, template),
      backend: backend.name,
      threads: backend.threads,
      loadMs: performance.now() - t0,
    };
    const session = new Session(model, backend.name === 'wasm' ? undefined : (e) => this.recoverOnWasm(e, sources, opts));
    this.loaded = { model, session, template, info };
    return info;
  }

  /** The GPU failed mid-answer (device lost, out of memory): the same model on WASM; the session rebuilds its cache. */
  private async recoverOnWasm(e: EngineError, sources: ByteSource[], opts: LoadOptions): Promise<LoadedModel> {
    const cur = this.loaded!;
    console.warn(`${e.message}; continuing on the WASM backend`);
    await cur.model.dispose().catch(() => {});
    const wasm = await createBackend('wasm', opts);
    cur.model = await loadModel(sources, wasm, { nCtx: opts.nCtx });
    cur.info = { ...cur.info, backend: wasm.name, threads: wasm.threads };
    return cur.model;
  }

  /** Tries each backend in order; a WebGPU failure (no device, out of memory) falls back to WASM. */
  private async loadOnBestBackend(sources: ByteSource[], opts: LoadOptions, onProgress?: Callback<LoadProgress>) {
    const order = await backendOrder(opts);
    for (let i = 0; ; i++) {
      let backend: Backend | undefined;
      try {
        backend = await createBackend(order[i], opts);
        const model = await loadModel(sources, backend, {
          nCtx: opts.nCtx,
          onProgress: (p) => onProgress?.({ phase: 'weights', loaded: p.loadedBytes, total: p.totalBytes }),
        });
        return { model, backend };
      } catch (e) {
        backend?.dispose();
        if (i + 1 >= order.length) throw e;
      }
    }
  }

  async unloadModel(): Promise<void> {
    const cur = this.loaded;
    if (!cur) return;
    for (const c of this.requests.values()) c.abort();
    await this.queue.catch(() => {});
    this.loaded = null;
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
    const { session, info } = cur;
    const chunk = (delta: ChatCompletionDelta, finish: FinishReason | null): ChatCompletionChunk => ({
      id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: info.name,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const { promptIds: ids, stop, startsInReasoning } = buildChatPrompt(session.model, params.messages, cur.template, {
      enableThinking: params.chat_template_kwargs?.enable_thinking,
    });
    const deltas = deltaStream({ split: cur.template !== null, startsInReasoning });
    const send = (d: ChatCompletionDelta | null): void => { if (d) onChunk(chunk(d, null)); };
    const breathe = eventLoopBreather();
    for await (const ev of session.generate(ids, generateOptions(params, signal, stop))) {
      await breathe();
      if (ev.type === 'token') {
        send(deltas.push(ev.text));
      } else {
        send(deltas.flush());
        // cur.info, not info: a GPU failure during this answer may have moved the model to WASM
        onChunk({ ...chunk({}, ev.stats.finishReason), usage: usage(ev.stats), stats: { ...pickStats(ev.stats), backend: cur.info.backend, threads: cur.info.threads } });
      }
    }
  }
}

/**
 * The WASM backend computes without yielding to the event loop, so a decode loop made only of
 * resolved promises would never see an abort() message. Every ~16 ms this yields one macrotask
 * (a MessageChannel hop: unlike setTimeout it is not clamped to 4 ms).
 */
function eventLoopBreather(intervalMs = 16): () => Promise<void> {
  const channel = new MessageChannel();
  let last = performance.now();
  return async () => {
    if (performance.now() - last < intervalMs) return;
    await new Promise<void>((resolve) => {
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
    last = performance.now();
  };
}

function usage(s: GenerationStats): ChatCompletionChunk['usage'] {
  return { prompt_tokens: s.promptTokens, completion_tokens: s.generatedTokens, total_tokens: s.promptTokens + s.generatedTokens };
}

function pickStats(s: GenerationStats) {
  return {
    promptTokens: s.promptTokens, prefilledTokens: s.prefilledTokens, generatedTokens: s.generatedTokens,
    timeToFirstTokenMs: s.timeToFirstTokenMs, prefillTokensPerSec: s.prefillTokensPerSec,
    decodeTokensPerSec: s.decodeTokensPerSec,
  };
}
