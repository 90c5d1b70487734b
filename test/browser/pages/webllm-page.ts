// Page side of webllm-adapter.test.ts: the real @mlc-ai/web-llm through our adapter in Chromium,
// whose SwiftShader adapter has no shader-f16. Every network request the page makes during a load
// is recorded (fetch, Cache.add/addAll, and the Resource Timing entries).
import { ModelStore } from '../../../src/worker/model-store.ts';
import { WEBLLM_CACHES } from '../../../src/worker/webllm-cache.ts';
import { effectiveModelBase } from '../../../src/worker/webllm-catalogue.ts';
import { probeWebGPU, WebLLMEngine } from '../../../src/worker/webllm-engine.ts';

const requests: string[] = [];
let recording = false;

function record(): void {
  const f = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    if (recording) requests.push(`fetch ${input instanceof Request ? input.url : String(input)}`);
    return f(input, init);
  };
  const add = Cache.prototype.add;
  Cache.prototype.add = function (req: RequestInfo | URL) {
    if (recording) requests.push(`cache.add ${req instanceof Request ? req.url : String(req)}`);
    return add.call(this, req);
  };
  const addAll = Cache.prototype.addAll;
  Cache.prototype.addAll = function (reqs: RequestInfo[]) {
    if (recording) for (const r of reqs) requests.push(`cache.addAll ${r instanceof Request ? r.url : String(r)}`);
    return addAll.call(this, reqs);
  };
}
record();

/** Runs `f` and returns its outcome and every request made meanwhile. */
async function watched(f: () => Promise<unknown>): Promise<{ code?: string; message?: string; ms: number; requests: string[] }> {
  requests.length = 0;
  performance.clearResourceTimings();
  recording = true;
  const t0 = performance.now();
  try {
    await f();
    return { ms: performance.now() - t0, requests: [...requests] };
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message, ms: performance.now() - t0, requests: [...requests] };
  } finally {
    recording = false;
    for (const r of performance.getEntriesByType('resource')) requests.push(`resource ${r.name}`);
  }
}

export async function gate() {
  const support = await probeWebGPU();
  const origin = location.origin;
  const engine = await WebLLMEngine.open({
    support,
    custom: [
      // an f16 library on this server: the gate must refuse it without asking the server
      { id: 'self-q4f16', modelUrl: `${origin}/__webllm/self-q4f16/resolve/main/`, modelLibUrl: `${origin}/__webllm/self-q4f16-webgpu.wasm` },
      // f32 builds whose files are missing (404 here) or whose server is down (port 9 refuses)
      { id: 'missing-q4f32', modelUrl: `${origin}/__webllm/missing-q4f32_1-MLC/`, modelLibUrl: `${origin}/__webllm/missing-q4f32_1-webgpu.wasm` },
      { id: 'down-q4f32', modelUrl: 'http://127.0.0.1:9/down-q4f32_1-MLC/resolve/main/', modelLibUrl: 'http://127.0.0.1:9/down-q4f32_1-webgpu.wasm' },
    ],
  });
  const list = engine.catalogue();
  const f16 = list.filter((m) => m.requiresF16);
  const progress: string[] = [];
  const loads = {
    prebuiltF16: await watched(() => engine.load('Qwen2.5-0.5B-Instruct-q4f16_1-MLC')),
    declaredF16: await watched(() => engine.load('Mistral-7B-Instruct-v0.3-q4f16_1-MLC')),
    customF16: await watched(() => engine.load('self-q4f16')),
    missing: await watched(() => engine.load('missing-q4f32', (p) => progress.push(p.text))),
    down: await watched(() => engine.load('down-q4f32')),
  };
  return {
    support,
    crossOriginIsolated,
    custom: list.slice(0, 3).map((m) => ({ id: m.id, custom: m.custom, requiresF16: m.requiresF16, unavailable: m.unavailable ?? null })),
    f16Count: f16.length,
    f16Unavailable: f16.filter((m) => m.unavailable).length,
    f32Available: list.filter((m) => !m.requiresF16 && !m.unavailable).length,
    sample: f16.find((m) => m.id === 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC')?.unavailable ?? null,
    missingBase: effectiveModelBase(`${origin}/__webllm/missing-q4f32_1-MLC/`),
    loads,
    progress,
    loaded: engine.loadedModel(),
  };
}

/** Our IndexedDB store and WebLLM's Cache API store, side by side. */
export async function caches_(ggufUrl: string) {
  const engine = await WebLLMEngine.open({ support: await probeWebGPU() });
  const emptyAtFirst = await engine.cachedModels();
  // a model of ours in IndexedDB
  const store = new ModelStore();
  const bytes = new Uint8Array(await (await fetch(ggufUrl)).arrayBuffer());
  const ours = await store.importFiles([new File([bytes], 'stories260K.gguf')]);
  const withOurs = await engine.cachedModels();
  // what WebLLM stores for a model, put where its loader puts it: weights and tensor-cache.json in
  // webllm/model under the model's base, mlc-chat-config.json in webllm/config, the library in webllm/wasm
  const rec = engine.appConfig.model_list.find((r) => r.model_id === 'Llama-3.2-1B-Instruct-q4f32_1-MLC')!;
  const base = effectiveModelBase(rec.model);
  const put = async (cache: string, url: string, body: string) =>
    (await caches.open(cache)).put(url, new Response(body, { headers: { 'content-length': String(body.length) } }));
  await put('webllm/model', new URL('tensor-cache.json', base).href, JSON.stringify({ records: [{ dataPath: 'params_shard_0.bin' }] }));
  const partial = await engine.cachedModels();
  await put('webllm/model', new URL('params_shard_0.bin', base).href, 'x'.repeat(1000));
  await put('webllm/config', new URL('mlc-chat-config.json', base).href, '{}');
  await put('webllm/wasm', rec.model_lib, 'lib');
  // files no catalogue entry names (a custom entry since removed)
  await put('webllm/model', 'https://gone.example/m/resolve/main/params_shard_0.bin', 'yy');
  const full = await engine.cachedModels();
  const cacheNames = await caches.keys();
  const dbs = (await indexedDB.databases()).map((d) => d.name);
  for (const row of full) await engine.deleteCached(row);
  const afterDelete = await engine.cachedModels();
  const keysLeft: string[] = [];
  for (const name of WEBLLM_CACHES) if (await caches.has(name)) keysLeft.push(...(await (await caches.open(name)).keys()).map((r) => r.url));
  const oursAfter = (await store.list()).map((m) => m.id);
  await store.delete(ours.id);
  return { emptyAtFirst, withOurs, partial, full, cacheNames, dbs, afterDelete, keysLeft, ours: ours.id, oursAfter };
}

/** A q4f32 entry on another origin (`base`), as docs/webllm.md serves one: with and without CORS. */
export async function crossOrigin(base: string) {
  const engine = await WebLLMEngine.open({
    support: await probeWebGPU(),
    custom: ['cors', 'nocors'].map((k) => ({
      id: `${k}-q4f32_1`, modelUrl: `${base}/${k}/m-q4f32_1-MLC/resolve/main/`, modelLibUrl: `${base}/${k}/libs/m-q4f32_1-webgpu.wasm`,
    })).concat([{ id: 'nolib-q4f32_1', modelUrl: `${base}/cors/m-q4f32_1-MLC/resolve/main/`, modelLibUrl: `${base}/cors/missing/m-q4f32_1-webgpu.wasm` }]),
  });
  const out = {
    nolib: await watched(() => engine.load('nolib-q4f32_1')),
    cors: await watched(() => engine.load('cors-q4f32_1')),
    nocors: await watched(() => engine.load('nocors-q4f32_1')),
  };
  // what the failed loads left in WebLLM's cache is listed, and goes with Delete (no tensor-cache.json
  // was stored: the deletion must not go to the network for it)
  const cached = await engine.cachedModels();
  const deleting = await watched(async () => { for (const row of cached) await engine.deleteCached(row); });
  return { ...out, cached, deleting, afterDelete: await engine.cachedModels() };
}
