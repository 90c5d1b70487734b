// WebLLM (MLC's compiled model libraries on WebGPU) behind our ChatEngine. The package (~6 MB) is
// imported on first use only, so the app costs nothing until WebLLM is chosen. The adapter is
// checked before anything downloads: an f16 build on an adapter without shader-f16 is refused up
// front (WebLLM itself would fetch the config and library first, and some f16 records do not
// declare the feature at all, failing only at shader compile after the weights came down).
import type * as WebLLM from '@mlc-ai/web-llm';
import { EngineError } from '../shared/errors.ts';
import type { ChatCompletionChunk, ChatCompletionParams, ChatEngine, CompletionOptions, EngineModel, FinishReason, LoadProgress } from './api.ts';
import { deltaStream } from './chat.ts';
import {
  buildAppConfig, catalogue, customRecord, effectiveModelBase, findRecord, unavailableReason,
  type WebGPUSupport, type WebLLMCustomEntry, type WebLLMModel,
} from './webllm-catalogue.ts';
import { deleteWebLLMFiles, deleteWebLLMModel, listWebLLMCache, type WebLLMCachedModel } from './webllm-cache.ts';
import { mapWebLLMError, statsFromUsage, toLoadProgress, toWebLLMRequest, type ClientTiming } from './webllm-map.ts';

export type WebLLMModule = typeof WebLLM;

let modulePromise: Promise<WebLLMModule> | null = null;

/** The package, imported once, lazily (its own chunk in the build). */
export function importWebLLM(): Promise<WebLLMModule> {
  modulePromise ??= import('@mlc-ai/web-llm').catch((e: unknown) => {
    modulePromise = null;
    throw new EngineError('WEBLLM_FAILED', `Could not load the WebLLM code: ${(e as Error).message}. Reload the page (online once).`, { cause: e });
  });
  return modulePromise;
}

/** What the adapter offers: WebGPU at all, and shader-f16. Requests no device. */
export async function probeWebGPU(gpu: GPU | undefined = (globalThis.navigator as Navigator & { gpu?: GPU } | undefined)?.gpu): Promise<WebGPUSupport> {
  if (!gpu) return { webgpu: false, f16: false, reason: 'this browser does not expose navigator.gpu' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { webgpu: false, f16: false, reason: 'requestAdapter() found no GPU' };
    const i = adapter.info;
    const name = [i.vendor, i.architecture, i.description || i.device].filter(Boolean).join(' ') || 'unknown adapter';
    return { webgpu: true, f16: adapter.features.has('shader-f16'), adapter: name };
  } catch (e) {
    return { webgpu: false, f16: false, reason: `requestAdapter() failed: ${(e as Error).message}` };
  }
}

/**
 * One line on why the model's files could not be fetched: the first of them that answers with an
 * HTTP error, or gives no answer the page may read (down, or no CORS header).
 */
async function diagnose(urls: string[]): Promise<string> {
  for (const url of urls) {
    try {
      const r = await fetch(url, { method: 'GET', cache: 'no-store', signal: AbortSignal.timeout(5000) });
      void r.body?.cancel();
      if (!r.ok) return `${url}: HTTP ${r.status}${r.status === 404 ? ', not there' : ''}`;
    } catch {
      return `no readable answer from ${new URL(url).origin}: the server is down, or it sends no Access-Control-Allow-Origin`;
    }
  }
  return 'the config, weight index and library answer now; a weight shard may be missing, or try again';
}

export type WebLLMLoadProgress = LoadProgress & { text: string };

export interface WebLLMOpenOptions {
  custom?: WebLLMCustomEntry[];
  /** default: probeWebGPU() */
  support?: WebGPUSupport;
}

export class WebLLMEngine implements ChatEngine {
  readonly kind = 'webllm' as const;
  readonly chat: ChatEngine['chat'];
  private mlc: WebLLM.MLCEngine | null = null;
  private current: WebLLMModel | null = null;
  private busy = false;

  /** the prebuilt records plus the valid custom ones; what the next load() uses */
  appConfig: WebLLM.AppConfig;
  /** stored custom entries that do not validate, with why */
  rejected: { entry: WebLLMCustomEntry; message: string }[] = [];
  private customIds: ReadonlySet<string> = new Set();

  private constructor(private readonly lib: WebLLMModule, readonly support: WebGPUSupport, custom: WebLLMCustomEntry[]) {
    this.appConfig = lib.prebuiltAppConfig;
    this.setCustom(custom);
    this.chat = { completions: { create: (params, opts) => this.stream(params, opts) } };
  }

  /** Probes the adapter, imports the package and builds the catalogue (no model is fetched). */
  static async open(opts: WebLLMOpenOptions = {}): Promise<WebLLMEngine> {
    const support = opts.support ?? await probeWebGPU();
    return new WebLLMEngine(await importWebLLM(), support, opts.custom ?? []);
  }

  /** Replaces the custom entries (invalid ones go to `rejected`); a loaded model stays loaded. */
  setCustom(entries: WebLLMCustomEntry[]): void {
    const valid: WebLLMCustomEntry[] = [];
    this.rejected = [];
    for (const entry of entries) {
      try {
        customRecord(entry);
        if (valid.some((v) => v.id === entry.id.trim())) throw new EngineError('BAD_ARGUMENT', `A custom entry "${entry.id}" exists already.`);
        valid.push({ ...entry, id: entry.id.trim() });
      } catch (e) {
        this.rejected.push({ entry, message: (e as Error).message });
      }
    }
    this.appConfig = buildAppConfig(this.lib.prebuiltAppConfig, valid);
    this.customIds = new Set(valid.map((v) => v.id));
  }

  catalogue(): WebLLMModel[] {
    return catalogue(this.appConfig, this.support, this.customIds);
  }

  loadedModel(): WebLLMModel | null {
    return this.current;
  }

  /**
   * Loads a model: the f16/WebGPU gate first (WEBLLM_UNSUPPORTED, nothing fetched), then WebLLM's
   * reload with its progress. An abort unloads it and rejects with ABORTED.
   */
  async load(id: string, onProgress?: (p: WebLLMLoadProgress) => void, signal?: AbortSignal): Promise<EngineModel> {
    const record = findRecord(this.appConfig, id);
    const why = unavailableReason(record, this.support);
    if (why) throw new EngineError('WEBLLM_UNSUPPORTED', why);
    if (signal?.aborted) throw new EngineError('ABORTED', 'Loading was stopped.');
    if (this.busy) throw new EngineError('BAD_ARGUMENT', 'WebLLM is answering: stop that answer before loading another model.');
    await this.unload();
    const mlc = new this.lib.MLCEngine({
      appConfig: this.appConfig,
      initProgressCallback: onProgress ? (r) => onProgress(toLoadProgress(r)) : undefined,
      logLevel: 'WARN',
    });
    const onAbort = (): void => void mlc.unload();
    signal?.addEventListener('abort', onAbort, { once: true });
    const ctx = { modelId: id, modelUrl: effectiveModelBase(record.model), modelLibUrl: record.model_lib };
    try {
      await mlc.reload(id);
    } catch (e) {
      void mlc.unload().catch(() => undefined);
      const err = mapWebLLMError(e, { ...ctx, aborted: signal?.aborted });
      // Cache.add() says only "Request failed": ask once more for the status people need
      if (err.code === 'WEBLLM_FAILED' && /^Could not download/.test(err.message)) {
        const files = ['mlc-chat-config.json', 'tensor-cache.json'].map((f) => new URL(f, ctx.modelUrl).href);
        throw new EngineError('WEBLLM_FAILED', `${err.message} (${await diagnose([files[0], record.model_lib, files[1]])})`, { cause: e });
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    // reload() swallows its own AbortError and resolves: an abort shows only here
    if (signal?.aborted) throw new EngineError('ABORTED', 'Loading was stopped.');
    this.mlc = mlc;
    this.current = this.catalogue().find((m) => m.id === id) ?? null;
    return this.current ?? { id };
  }

  /** What WebLLM has stored on this device (its Cache API caches, apart from ours). */
  cachedModels(): Promise<WebLLMCachedModel[]> {
    return listWebLLMCache(this.appConfig, this.lib);
  }

  /** Deletes a cached model (row.id) or orphaned files (row.url); unloads it first if it is loaded. */
  async deleteCached(row: Pick<WebLLMCachedModel, 'id' | 'url'>): Promise<void> {
    if (row.id && row.id === this.current?.id) await this.unload();
    if (row.id) await deleteWebLLMModel(this.lib, this.appConfig, row.id);
    else await deleteWebLLMFiles(row.url);
  }

  async unload(): Promise<void> {
    const mlc = this.mlc;
    this.mlc = null;
    this.current = null;
    await mlc?.unload().catch(() => undefined);
  }

  private async *stream(params: ChatCompletionParams, opts: CompletionOptions = {}): AsyncGenerator<ChatCompletionChunk> {
    const mlc = this.mlc;
    const model = this.current?.id ?? '';
    if (!mlc) throw new EngineError('BAD_ARGUMENT', 'No WebLLM model is loaded yet: load one first.');
    if (this.busy) throw new EngineError('BAD_ARGUMENT', 'WebLLM is answering already: stop that answer first.');
    const { signal } = opts;
    if (signal?.aborted) throw new EngineError('ABORTED', 'Stopped.');
    this.busy = true;
    const onAbort = (): void => void mlc.interruptGenerate();
    signal?.addEventListener('abort', onAbort, { once: true });
    const t: ClientTiming = { startMs: performance.now(), endMs: 0, pieces: 0 };
    const id = `chatcmpl-webllm-${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason | null = null): ChatCompletionChunk =>
      ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    const deltas = deltaStream({ split: true, startsInReasoning: false });
    let finish: FinishReason = 'stop';
    let usage: WebLLM.CompletionUsage | undefined;
    try {
      let it: AsyncIterable<WebLLM.ChatCompletionChunk>;
      try {
        it = await mlc.chat.completions.create(toWebLLMRequest(params));
      } catch (e) {
        throw mapWebLLMError(e, { modelId: model });
      }
      try {
        for await (const c of it) {
          // WebLLM clears its interrupt flag when a generation starts: an abort before that is repeated
          if (signal?.aborted) void mlc.interruptGenerate();
          if (c.usage) usage = c.usage;
          const choice = c.choices[0];
          if (choice?.finish_reason) finish = choice.finish_reason === 'length' ? 'length' : choice.finish_reason === 'abort' ? 'abort' : 'stop';
          const text = choice?.delta.content;
          if (!text) continue;
          t.firstTokenMs ??= performance.now();
          t.pieces++;
          const d = deltas.push(text);
          if (d) yield chunk(d);
        }
      } catch (e) {
        throw mapWebLLMError(e, { modelId: model, aborted: signal?.aborted });
      }
      const rest = deltas.flush();
      if (rest) yield chunk(rest);
      if (signal?.aborted) finish = 'abort';
      t.endMs = performance.now();
      const stats = statsFromUsage(usage, t);
      const final = chunk({}, finish);
      final.usage = {
        prompt_tokens: stats.promptTokens,
        completion_tokens: stats.generatedTokens,
        total_tokens: stats.promptTokens + stats.generatedTokens,
      };
      final.stats = stats;
      yield final;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.busy = false;
    }
  }
}
