import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadModel } from '../../src/storage/downloads.ts';
import { HttpError, IntegrityError, StorageQuotaError } from '../../src/storage/storage-errors.ts';
import { startServer, type TestServer } from './http-server.ts';
import { CHUNK, freshCache, ggufBytes, modelBytes, nodeSha256, storedFileBytes } from './helpers.ts';

let server: TestServer;
beforeAll(async () => { server = await startServer(); });
afterAll(async () => { await server.close(); });
afterEach(() => { vi.unstubAllGlobals(); });

const SIZE = 300_000; // 4 whole chunks of 64 KiB + a short last one
const PROBE = 'bytes=0-1048575'; // the header read before a download

describe('downloadModel', () => {
  it('streams a file into chunks, reports progress and verifies the hash', async () => {
    const data = ggufBytes(SIZE, 21);
    server.route('/plain.gguf', { data });
    const { cache } = freshCache();
    const progress: number[] = [];
    const m = await downloadModel({
      url: `${server.base}/plain.gguf`, modelId: 'plain', name: 'Plain', cache,
      expectedSha256: nodeSha256(data).toUpperCase(),
      onProgress: (p) => { progress.push(p.loaded); expect(p.total).toBe(SIZE); },
    });
    expect(m).toMatchObject({ id: 'plain', name: 'Plain', complete: true, source: { kind: 'url', url: `${server.base}/plain.gguf` } });
    expect(m.files).toEqual([{ name: 'plain.gguf', size: SIZE, chunkSize: CHUNK, chunks: 5, sha256: nodeSha256(data), expectedSha256: nodeSha256(data) }]);
    expect(progress.at(-1)).toBe(SIZE);
    const [src] = await cache.openModelSource('plain');
    expect(Buffer.compare(await src.read(CHUNK - 10, 100_000), data.subarray(CHUNK - 10, CHUNK - 10 + 100_000))).toBe(0);
  });

  it('resumes with a Range request after the server drops the connection (and after a reload)', async () => {
    const data = ggufBytes(SIZE, 22);
    const route = server.route('/drop.gguf', { data, dropAfter: 150_000 });
    const { cache, reopen } = freshCache();
    const opts = { url: `${server.base}/drop.gguf`, modelId: 'drop', name: 'Drop', maxRetries: 0 };
    await expect(downloadModel({ ...opts, cache })).rejects.toMatchObject({ code: 'IO', name: 'InterruptedError' });
    const partial = await cache.getManifest('drop');
    expect(partial?.complete).toBe(false);
    const kept = partial!.files[0].chunks;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThanOrEqual(2); // never more than the whole chunks the server actually sent

    const reloaded = reopen();
    await expect(reloaded.openModelSource('drop')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const m = await downloadModel({ ...opts, cache: reloaded });
    expect(route.ranges).toEqual([undefined, `bytes=${kept * CHUNK}-`]);
    expect(m.complete).toBe(true);
    expect(nodeSha256(await storedFileBytes(reloaded, 'drop'))).toBe(nodeSha256(data));
  });

  it('resumes automatically within one call when retries are allowed', async () => {
    const data = ggufBytes(SIZE, 23);
    const route = server.route('/retry.gguf', { data, dropAfter: 200_000 });
    const { cache } = freshCache();
    await downloadModel({ url: `${server.base}/retry.gguf`, modelId: 'retry', name: 'R', cache, retryDelayMs: 5 });
    expect(route.ranges.length).toBe(2);
    expect(route.ranges[1]).toMatch(/^bytes=(65536|131072|196608)-$/);
    expect(nodeSha256(await storedFileBytes(cache, 'retry'))).toBe(nodeSha256(data));
  });

  it('keeps retrying while each dropped connection still makes progress', async () => {
    const data = ggufBytes(SIZE, 33);
    const route = server.route('/crawl.gguf', { data, dropAfter: 70_000, dropAlways: true });
    const { cache } = freshCache();
    await downloadModel({ url: `${server.base}/crawl.gguf`, modelId: 'crawl', name: 'C', cache, maxRetries: 1, retryDelayMs: 1 });
    expect(route.ranges).toEqual([undefined, ...[1, 2, 3, 4].map((c) => `bytes=${c * CHUNK}-`)]);
    expect(nodeSha256(await storedFileBytes(cache, 'crawl'))).toBe(nodeSha256(data));
  });

  it('pauses on abort and resumes from the last whole chunk when called again', async () => {
    const data = ggufBytes(SIZE, 24);
    const ctrl = new AbortController();
    const { cache } = freshCache();
    // Once the server has sent 200000 bytes and waits, abort as soon as the 3 whole chunks are stored.
    const abortWhenStored = async (): Promise<void> => {
      while ((await cache.getManifest('pause'))?.files[0].chunks !== 3) await new Promise((r) => setTimeout(r, 5));
      ctrl.abort();
    };
    const route = server.route('/pause.gguf', { data, stallAfter: 200_000, onStall: () => void abortWhenStored() });
    const opts = { url: `${server.base}/pause.gguf`, modelId: 'pause', name: 'P', cache };
    await expect(downloadModel({ ...opts, signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await cache.getManifest('pause'))?.files[0].chunks).toBe(3); // 200000 bytes = 3 whole chunks
    await downloadModel(opts);
    expect(route.ranges).toEqual([undefined, `bytes=${3 * CHUNK}-`]);
    expect(nodeSha256(await storedFileBytes(cache, 'pause'))).toBe(nodeSha256(data));
  });

  it('restarts cleanly from byte 0 when the server ignores Range', async () => {
    const data = ggufBytes(SIZE, 25);
    const route = server.route('/norange.gguf', { data, dropAfter: 150_000, ignoreRange: true });
    const { cache, rawKeys } = freshCache();
    const m = await downloadModel({ url: `${server.base}/norange.gguf`, modelId: 'nr', name: 'NR', cache, retryDelayMs: 5 });
    expect(route.ranges[1]).toMatch(/^bytes=\d+-$/); // it asked to resume, got a 200 with the whole file
    expect(m.complete).toBe(true);
    expect(nodeSha256(await storedFileBytes(cache, 'nr'))).toBe(nodeSha256(data));
    expect((await rawKeys()).length).toBe(1 + 5);
  });

  it('restarts cleanly when a 206 answer does not start where it was asked to', async () => {
    const data = ggufBytes(SIZE, 31);
    const route = server.route('/wrong-range.gguf', { data, dropAfter: 150_000, wrongRange: true });
    const { cache, rawKeys } = freshCache();
    await downloadModel({ url: `${server.base}/wrong-range.gguf`, modelId: 'wr', name: 'WR', cache, retryDelayMs: 5 });
    expect(route.ranges).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/), undefined]);
    expect(nodeSha256(await storedFileBytes(cache, 'wr'))).toBe(nodeSha256(data));
    expect((await rawKeys()).length).toBe(1 + 5);
  });

  it('an HTTP error while resuming keeps the partial for a later call', async () => {
    const data = ggufBytes(SIZE, 32);
    const route = server.route('/flaky.gguf', { data, dropAfter: 150_000, laterStatus: 503 });
    const { cache } = freshCache();
    const opts = { url: `${server.base}/flaky.gguf`, modelId: 'fl', name: 'FL', cache, retryDelayMs: 5 };
    await expect(downloadModel(opts)).rejects.toMatchObject({ status: 503 });
    const kept = (await cache.getManifest('fl'))!.files[0].chunks;
    expect(kept).toBeGreaterThan(0);
    route.laterStatus = undefined;
    await downloadModel(opts);
    expect(route.ranges.at(-1)).toBe(`bytes=${kept * CHUNK}-`);
    expect(nodeSha256(await storedFileBytes(cache, 'fl'))).toBe(nodeSha256(data));
  });

  it('HTTP 404 → HttpError with status and URL, nothing stored', async () => {
    const { cache, rawKeys } = freshCache();
    const url = `${server.base}/missing.gguf`;
    const err = await downloadModel({ url, modelId: 'nf', name: 'NF', cache }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ code: 'IO', status: 404, url });
    expect((err as Error).message).toContain('404');
    expect(await rawKeys()).toEqual([]);
  });

  it('a file that is not GGUF → GGUF_BAD_MAGIC, nothing stored', async () => {
    server.route('/notgguf.bin', { data: modelBytes(SIZE, 26, '<htm') });
    const { cache, rawKeys } = freshCache();
    await expect(downloadModel({ url: `${server.base}/notgguf.bin`, modelId: 'ng', name: 'NG', cache }))
      .rejects.toMatchObject({ code: 'GGUF_BAD_MAGIC', message: expect.stringContaining('not a GGUF') });
    expect(await rawKeys()).toEqual([]);
  });

  it('quota estimate too small → QUOTA error with needed and available bytes, nothing stored', async () => {
    const route = server.route('/big.gguf', { data: ggufBytes(SIZE, 27) });
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ quota: 100_000, usage: 40_000 }) } });
    const { cache, rawKeys } = freshCache();
    const url = `${server.base}/big.gguf`;
    const err = await downloadModel({ url, modelId: 'big', name: 'Big', cache }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(err).toMatchObject({ code: 'QUOTA', needed: SIZE, available: 60_000 });
    expect((err as Error).message).toMatch(/300000 bytes.*60000 bytes/);
    expect(await rawKeys()).toEqual([]);
    // The announced size is checked against the quota before the header is read: one range
    // request, and none at all with a known size.
    expect(route.headRanges).toEqual([PROBE]);
    await expect(downloadModel({ url, modelId: 'big', name: 'Big', cache, expectedSize: SIZE }))
      .rejects.toMatchObject({ code: 'QUOTA' });
    expect(route.headRanges).toEqual([PROBE]);
    expect(route.ranges).toEqual([]);
  });

  it('QuotaExceededError while writing → QUOTA error; the committed chunks are kept and Resume finishes', async () => {
    const data = ggufBytes(SIZE, 34);
    server.route('/wq.gguf', { data });
    const { cache, rawKeys } = freshCache();
    const realPut = IDBObjectStore.prototype.put;
    const spy = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (key === 'wq/0/2') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.call(this, value, key);
    });
    const opts = { url: `${server.base}/wq.gguf`, modelId: 'wq', name: 'WQ', cache, expectedSha256: nodeSha256(data) };
    const err = await downloadModel(opts).catch((e: unknown) => e);
    spy.mockRestore();
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(err).toMatchObject({ code: 'QUOTA', needed: SIZE - 2 * CHUNK, kept: 2 * CHUNK });
    expect((err as Error).message).toMatch(/Browser storage is full: saving wq\.gguf needs .* then press Resume: the 128\.0 KB already downloaded are kept\./);
    expect(await rawKeys()).toEqual(['manifest:wq', 'wq/0/0', 'wq/0/1']);
    expect(await cache.getManifest('wq')).toMatchObject({ complete: false });
    const m = await downloadModel(opts);
    expect(m.files[0].sha256).toBe(nodeSha256(data));
    expect(nodeSha256(await storedFileBytes(cache, 'wq'))).toBe(nodeSha256(data));
  });

  it('refuses a second concurrent download of the same model', async () => {
    const ctrl = new AbortController();
    server.route('/twice.gguf', { data: ggufBytes(SIZE, 35), stallAfter: 1000 });
    const { cache } = freshCache();
    const opts = { url: `${server.base}/twice.gguf`, modelId: 'twice', name: 'Twice', cache };
    const first = downloadModel({ ...opts, signal: ctrl.signal });
    await expect(downloadModel(opts)).rejects.toThrow(/already downloading/);
    ctrl.abort();
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('hash mismatch → IntegrityError, the model is not kept', async () => {
    server.route('/bad-hash.gguf', { data: ggufBytes(SIZE, 28) });
    const { cache, rawKeys } = freshCache();
    const err = await downloadModel({
      url: `${server.base}/bad-hash.gguf`, modelId: 'bh', name: 'BH', cache, expectedSha256: nodeSha256(ggufBytes(SIZE, 29)),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ code: 'IO', actual: nodeSha256(ggufBytes(SIZE, 28)) });
    expect(await rawKeys()).toEqual([]);
  });

  it('a size different from expectedSize → typed error, nothing stored', async () => {
    server.route('/size.gguf', { data: ggufBytes(SIZE, 30) });
    const { cache, rawKeys } = freshCache();
    await expect(downloadModel({ url: `${server.base}/size.gguf`, modelId: 'sz', name: 'SZ', cache, expectedSize: SIZE + 1 }))
      .rejects.toMatchObject({ code: 'IO', message: expect.stringContaining(`has ${SIZE} bytes, expected ${SIZE + 1}`) });
    expect(await rawKeys()).toEqual([]);
  });
});
