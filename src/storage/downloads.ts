// Resumable model downloads: the response body streams into IndexedDB chunks, and a later
// call (after an abort, a dropped connection or a page reload) continues with an HTTP Range
// request from the last stored chunk. Pause = abort the signal; resume = call again. Before the
// first byte is stored, the header alone (an HTTP range) decides whether the model is wanted.
import { check } from '../shared/assert.ts';
import { EngineError, GGUFError, SplitSetError } from '../shared/errors.ts';
import type { FitRequest } from '../models/fit.ts';
import { checkModelParts, readPartHeader } from './header-check.ts';
import { verifyStoredFile } from './integrity.ts';
import { checkGGUFHead, checkModelId, modelStoredBytes, storedBytes, type ModelManifest } from './manifest.ts';
import { ensureQuota, ProgressMeter, type TransferProgress } from './quota.ts';
import { openRemoteHead } from './remote-head.ts';
import { defaultShardCache, type ShardCache } from './shard-cache.ts';
import { abortError, HttpError, IntegrityError, InterruptedError, StorageQuotaError } from './storage-errors.ts';

export type { TransferProgress } from './quota.ts';

export interface DownloadOptions {
  url: string;
  modelId: string;
  name: string;
  expectedSha256?: string;
  expectedSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  fetchImpl?: typeof fetch;
  cache?: ShardCache;
  /** Automatic resumes after a dropped connection within one call (default 3). */
  maxRetries?: number;
  /** Wait before the first automatic resume, doubled each time (default 1000 ms). */
  retryDelayMs?: number;
  /** the device: a model whose memory pre-flight says does-not-fit is refused before its body (DOES_NOT_FIT) */
  fit?: FitRequest;
}

interface Ctx {
  opts: DownloadOptions;
  cache: ShardCache;
  fetchImpl: typeof fetch;
  meter?: ProgressMeter;
}

const active = new Set<string>();

/** Downloads (or finishes downloading) a single-file GGUF model; returns its complete manifest. */
export async function downloadModel(opts: DownloadOptions): Promise<ModelManifest> {
  checkModelId(opts.modelId);
  check(!active.has(opts.modelId), 'BAD_ARGUMENT', `"${opts.name}" is already downloading.`);
  active.add(opts.modelId);
  try {
    // an unbound global fetch throws "Illegal invocation" in browsers when called as ctx.fetchImpl()
    const fetchImpl = opts.fetchImpl ?? ((input, init) => fetch(input, init));
    return await runDownload({ opts, cache: opts.cache ?? defaultShardCache(), fetchImpl });
  } finally {
    active.delete(opts.modelId);
  }
}

async function runDownload(ctx: Ctx): Promise<ModelManifest> {
  const { opts, cache } = ctx;
  if (opts.signal?.aborted) throw abortError(`Downloading ${opts.name}`);
  const m = await cache.getManifest(opts.modelId);
  if (m?.complete) {
    check(m.source.url === opts.url, 'BAD_ARGUMENT', `A different model with id "${opts.modelId}" is already stored.`);
    return m;
  }
  const resumable = m !== undefined && m.source.url === opts.url && m.files.length === 1 && sameHash(m, opts.expectedSha256);
  if (m && !resumable) await cache.deleteModel(opts.modelId); // a partial of something else
  if (opts.expectedSize !== undefined) {
    await ensureQuota(opts.name, opts.expectedSize - (resumable ? modelStoredBytes(m) : 0));
  }
  try {
    const stored = await transferWithRetries(ctx);
    // the partial's own hash: a Resume (or a reload) may come without one
    const expected = opts.expectedSha256 || stored.files[0].expectedSha256;
    if (expected) await verifyWithProgress(ctx, stored, expected);
    return await cache.markComplete(opts.modelId, [expected]);
  } catch (e) {
    await discardIfUseless(cache, opts.modelId, e);
    throw await withKept(cache, opts.modelId, e);
  }
}

/** Storage ran full mid-download: the error says how much is kept for Resume. */
async function withKept(cache: ShardCache, id: string, e: unknown): Promise<unknown> {
  if (!(e instanceof StorageQuotaError) || e.kept > 0) return e;
  const m = await cache.getManifest(id).catch(() => undefined);
  const kept = m ? modelStoredBytes(m) : 0;
  return kept > 0 ? new StorageQuotaError(e.what, e.needed, e.available, { cause: e.cause, kept }) : e;
}

/** A partial asked to match another hash is a different file. */
function sameHash(m: ModelManifest, expected: string | undefined): boolean {
  const kept = m.files[0]?.expectedSha256;
  return !expected || !kept || kept === expected.trim().toLowerCase();
}

/** Hashes the stored file, reporting progress as phase 'verify'. */
async function verifyWithProgress(ctx: Ctx, m: ModelManifest, expected: string): Promise<void> {
  const { onProgress, signal } = ctx.opts;
  const meter = new ProgressMeter(m.files[0].size, onProgress && ((p) => onProgress({ ...p, phase: 'verify' })));
  meter.update(0);
  await verifyStoredFile(ctx.cache, m, 0, expected, { signal, onBytes: (n) => meter.update(n) });
}

/**
 * Bad content makes a partial worthless; otherwise keep it unless it is empty. A full quota keeps
 * the chunks already committed: once space is freed, Resume continues from them.
 */
async function discardIfUseless(cache: ShardCache, id: string, e: unknown): Promise<void> {
  const fatal = e instanceof GGUFError || e instanceof IntegrityError;
  const m = await cache.getManifest(id).catch(() => undefined);
  if (m && (fatal || modelStoredBytes(m) === 0)) await cache.deleteModel(id).catch(() => {});
}

async function transferWithRetries(ctx: Ctx): Promise<ModelManifest> {
  const { maxRetries = 3, retryDelayMs = 1000, signal, modelId } = ctx.opts;
  const stored = async (): Promise<number> => {
    const m = await ctx.cache.getManifest(modelId);
    return m ? modelStoredBytes(m) : 0;
  };
  for (let failures = 0; ;) {
    const before = await stored();
    try {
      return await transferOnce(ctx);
    } catch (e) {
      // A connection that made progress before dropping does not use up the retry budget.
      failures = (await stored()) > before ? 1 : failures + 1;
      if (!(e instanceof InterruptedError) || failures > maxRetries || signal?.aborted) throw e;
      await sleep(retryDelayMs * 2 ** (failures - 1), signal);
    }
  }
}

/** One HTTP request; streams what is missing of the file into the cache. */
async function transferOnce(ctx: Ctx): Promise<ModelManifest> {
  const { opts, cache } = ctx;
  const m = await cache.getManifest(opts.modelId);
  // A partial was created only after its header passed, so a resume goes straight to the body.
  if (!m) await checkRemoteHeader(ctx);
  const offset = m ? storedBytes(m.files[0]) : 0;
  if (m && offset === m.files[0].size) return m;
  const res = await request(ctx, offset);
  let total: number | undefined;
  let start = 0;
  if (res.status === 206) {
    const range = parseContentRange(res.headers.get('Content-Range'));
    const consistent = range && range.start === offset && (!m || range.total === undefined || range.total === m.files[0].size);
    if (!consistent) return restart(ctx, res, offset, 'answered with an unexpected byte range');
    total = range.total;
    start = offset;
  } else if (res.ok) {
    total = contentLength(res);
  } else if (res.status === 416 && offset > 0) {
    return restart(ctx, res, offset, 'refused to resume');
  } else {
    await res.body?.cancel().catch(() => {});
    throw new HttpError(opts.url, res.status, res.statusText);
  }
  if (start > 0 && m) return stream(ctx, res, m, start);
  if (m) await cache.deleteModel(opts.modelId); // the server ignored Range: start over cleanly
  return stream(ctx, res, await createFresh(ctx, res, total), 0);
}

async function restart(ctx: Ctx, res: Response, offset: number, why: string): Promise<ModelManifest> {
  await res.body?.cancel().catch(() => {});
  if (offset === 0) throw new EngineError('IO', `Download failed: ${ctx.opts.url} ${why}.`);
  await ctx.cache.deleteModel(ctx.opts.modelId);
  return transferOnce(ctx);
}

/** The file's size from what the server announced and what the caller expects; it must fit the quota. */
async function fileSize(ctx: Ctx, total: number | undefined): Promise<number> {
  const { opts } = ctx;
  if (total !== undefined && opts.expectedSize !== undefined && total !== opts.expectedSize) {
    throw new EngineError('IO', `Download failed: ${opts.url} has ${total} bytes, expected ${opts.expectedSize}.`);
  }
  const size = total ?? opts.expectedSize;
  if (size === undefined) {
    throw new EngineError('IO', `Download failed: ${opts.url} did not say how large the file is.`);
  }
  await ensureQuota(opts.name, size);
  return size;
}

/**
 * Reads only the header (a range of the first MiB, more if the header is larger) and refuses a
 * file the engine cannot run, or one part of a split model, before the body is requested.
 */
async function checkRemoteHeader(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const name = fileNameOf(opts.url, opts.name);
  const head = await openRemoteHead({ url: opts.url, name, fetchImpl: ctx.fetchImpl, signal: opts.signal });
  try {
    const part = await readPartHeader(head.source(await fileSize(ctx, head.total)));
    try {
      checkModelParts([part], opts.fit);
    } catch (e) {
      if (!(e instanceof SplitSetError) || e.code !== 'SPLIT_MISSING') throw e;
      throw new SplitSetError('SPLIT_MISSING',
        `${name} is one part of a model split into ${String(part.metadata.get('split.count'))} files, and a download by URL ` +
        'takes a single-file model. Download every part and import them together.');
    }
  } finally {
    await head.close();
  }
}

async function createFresh(ctx: Ctx, res: Response, total: number | undefined): Promise<ModelManifest> {
  const { opts, cache } = ctx;
  try {
    const size = await fileSize(ctx, total);
    return await cache.createModel({
      id: opts.modelId,
      name: opts.name,
      files: [{ name: fileNameOf(opts.url, opts.name), size, expectedSha256: opts.expectedSha256 }],
      source: { kind: 'url', url: opts.url },
    });
  } catch (e) {
    await res.body?.cancel().catch(() => {});
    throw e;
  }
}

async function stream(ctx: Ctx, res: Response, m: ModelManifest, start: number): Promise<ModelManifest> {
  const { opts, cache } = ctx;
  if (!res.body) throw new InterruptedError(`Download failed: ${opts.url} sent no data.`);
  const meter = ctx.meter ??= new ProgressMeter(m.files[0].size, opts.onProgress);
  meter.update(start);
  return cache.putFile(opts.modelId, 0, res.body, {
    offset: start,
    signal: opts.signal,
    checkHead: checkGGUFHead,
    onBytes: (n) => meter.update(n),
  });
}

async function request(ctx: Ctx, offset: number): Promise<Response> {
  const { url, signal, name } = ctx.opts;
  try {
    return await ctx.fetchImpl(url, {
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      signal,
      cache: 'no-store', // the bytes go to IndexedDB; a second copy in the HTTP cache wastes quota
    });
  } catch (e) {
    if (signal?.aborted) throw abortError(`Downloading ${name}`);
    throw new InterruptedError(`Cannot reach ${url}: ${(e as Error).message}`, { cause: e });
  }
}

function parseContentRange(h: string | null): { start: number; total?: number } | undefined {
  const match = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h?.trim() ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

function contentLength(res: Response): number | undefined {
  const h = res.headers.get('Content-Length');
  const n = h === null ? NaN : Number(h);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function fileNameOf(url: string, fallback: string): string {
  try {
    const last = new URL(url, 'http://x/').pathname.split('/').pop();
    return last ? decodeURIComponent(last) : fallback;
  } catch {
    return fallback;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      if (signal?.aborted) reject(abortError('The download')); else resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
