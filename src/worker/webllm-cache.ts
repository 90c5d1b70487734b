// What WebLLM keeps on this device, for the storage panel. WebLLM stores through the Cache API in
// caches named webllm/model (weights, tokenizer), webllm/config (mlc-chat-config.json) and
// webllm/wasm (model libraries); ours is the IndexedDB database edge-llm-models, so the two never
// share or evict each other's entries. Listing reads only response headers, never the bodies.
import type { AppConfig } from '@mlc-ai/web-llm';
import { EngineError } from '../shared/errors.ts';
import { effectiveModelBase } from './webllm-catalogue.ts';
import type { WebLLMModule } from './webllm-engine.ts';

export const WEBLLM_CACHES = ['webllm/model', 'webllm/config', 'webllm/wasm'] as const;

export interface WebLLMCachedModel {
  /** the catalogue id, or null for files no entry of the catalogue names any more */
  id: string | null;
  /** the base URL the files came from (a model's folder, or a library's URL) */
  url: string;
  /** WebLLM's own hasModelInCache: every weight shard is there (null when no entry names it) */
  complete: boolean | null;
  files: number;
  /** from Content-Length where the server sent it; files without it count 0 */
  bytes: number;
}

interface CachedFile { cache: string; url: string; bytes: number }

function cacheStorage(): CacheStorage {
  if (typeof caches === 'undefined') throw new EngineError('IO', 'This browser has no Cache API (a secure context is needed), so WebLLM cannot store models here.');
  return caches;
}

async function cachedFiles(): Promise<CachedFile[]> {
  const cs = cacheStorage();
  const out: CachedFile[] = [];
  for (const name of WEBLLM_CACHES) {
    // has() first: open() would create the cache just by looking
    if (!(await cs.has(name))) continue;
    const cache = await cs.open(name);
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      out.push({ cache: name, url: req.url, bytes: Number(res?.headers.get('content-length') ?? 0) || 0 });
    }
  }
  return out;
}

/** What WebLLM's caches hold in all (files, bytes), read without importing WebLLM (the storage panel). */
export async function webllmCacheTotals(): Promise<{ files: number; bytes: number }> {
  const files = await cachedFiles();
  return { files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) };
}

/** The prefix a record's files share: its weights folder for models, the .wasm URL for its library. */
function owner(config: AppConfig, url: string): { id: string; base: string } | null {
  for (const r of config.model_list) {
    if (url === r.model_lib) return { id: r.model_id, base: effectiveModelBase(r.model) };
    const base = effectiveModelBase(r.model);
    if (url.startsWith(base)) return { id: r.model_id, base };
  }
  return null;
}

/**
 * WebLLM's cached models, one row per catalogue entry with files stored (plus rows for orphaned
 * files). Imports nothing when WebLLM has never stored anything; `lib` is needed only to ask
 * hasModelInCache about entries that have files.
 */
export async function listWebLLMCache(config: AppConfig, lib?: WebLLMModule): Promise<WebLLMCachedModel[]> {
  const files = await cachedFiles();
  const rows = new Map<string, WebLLMCachedModel>();
  for (const f of files) {
    const o = owner(config, f.url);
    const key = o ? `id:${o.id}` : `url:${orphanBase(f.url)}`;
    const row = rows.get(key) ?? { id: o?.id ?? null, url: o?.base ?? orphanBase(f.url), complete: null, files: 0, bytes: 0 };
    row.files++;
    row.bytes += f.bytes;
    rows.set(key, row);
  }
  for (const row of rows.values()) {
    if (row.id && lib) row.complete = await lib.hasModelInCache(row.id, config);
  }
  return [...rows.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Orphans group by their folder up to resolve/<branch>/ (Hugging Face layout), else their own folder. */
function orphanBase(url: string): string {
  const m = /^(.*\/resolve\/[^/]+\/)/.exec(url);
  return m ? m[1] : url.replace(/[^/]*$/, '');
}

/**
 * Deletes a model's weights, config and library: through WebLLM (deleteModelAllInfoInCache) when
 * its tensor-cache.json is stored — without it WebLLM would fetch that file from the network to
 * learn the shard names, and fail offline — then whatever is left under the model's folder and
 * the library's URL (a download interrupted before the index came).
 */
export async function deleteWebLLMModel(lib: WebLLMModule, config: AppConfig, id: string): Promise<void> {
  const rec = config.model_list.find((r) => r.model_id === id);
  if (!rec) throw new EngineError('BAD_ARGUMENT', `WebLLM has no model "${id}" to delete.`);
  const base = effectiveModelBase(rec.model);
  const cs = cacheStorage();
  const index = (await cs.has('webllm/model')) && await (await cs.open('webllm/model')).match(new URL('tensor-cache.json', base).href);
  if (index) await lib.deleteModelAllInfoInCache(id, config);
  await deleteWebLLMFiles(base);
  await deleteWebLLMFiles(rec.model_lib);
}

/** Deletes every cached file under a URL prefix (orphans, leftovers of a partial download). */
export async function deleteWebLLMFiles(prefix: string): Promise<number> {
  const cs = cacheStorage();
  let n = 0;
  for (const name of WEBLLM_CACHES) {
    if (!(await cs.has(name))) continue;
    const cache = await cs.open(name);
    for (const req of await cache.keys()) {
      if (req.url.startsWith(prefix) && await cache.delete(req)) n++;
    }
  }
  return n;
}
