// The expected SHA-256 lives in the partial's manifest, so a Resume (even from a fresh cache, as
// after a page reload) verifies against it; hashing reports progress; lost chunks are detected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadModel } from '../../src/storage/downloads.ts';
import type { TransferProgress } from '../../src/storage/quota.ts';
import { IntegrityError, MissingDataError } from '../../src/storage/storage-errors.ts';
import { startServer, type TestServer } from './http-server.ts';
import { CHUNK, freshCache, ggufBytes, nodeSha256, storedFileBytes } from './helpers.ts';
import { createStore, del } from 'idb-keyval';

let server: TestServer;
beforeAll(async () => { server = await startServer(); });
afterAll(async () => { await server.close(); });

const SIZE = 300_000; // 4 whole 64 KiB chunks + a short last one

/** A download that drops after `dropAfter` bytes and is not retried: leaves a partial. */
async function partialOf(path: string, data: Uint8Array, sha: string) {
  server.route(path, { data, dropAfter: 150_000 });
  const fresh = freshCache();
  const opts = { url: `${server.base}${path}`, modelId: path.slice(1).replace('.gguf', ''), name: path.slice(1), maxRetries: 0 };
  await expect(downloadModel({ ...opts, cache: fresh.cache, expectedSha256: sha.toUpperCase() }))
    .rejects.toMatchObject({ name: 'InterruptedError' });
  return { ...fresh, opts };
}

describe('integrity across Resume', () => {
  it('keeps the expected hash in the partial and checks a Resume that came without it', async () => {
    const data = ggufBytes(SIZE, 41);
    const { cache, reopen, opts } = await partialOf('/keep.gguf', data, nodeSha256(data));
    const partial = await cache.getManifest('keep');
    expect(partial?.files[0].expectedSha256).toBe(nodeSha256(data));
    expect(partial?.files[0].chunks).toBeGreaterThanOrEqual(1);
    expect(partial?.files[0].sha256).toBeUndefined();
    const phases: TransferProgress[] = [];
    const m = await downloadModel({ ...opts, cache: reopen(), onProgress: (p) => phases.push(p) });
    expect(m.files[0].sha256).toBe(nodeSha256(data));
    // download progress first, then the hash pass from 0 to the whole file
    const verify = phases.filter((p) => p.phase === 'verify');
    expect(phases.findIndex((p) => p.phase === 'verify')).toBeGreaterThan(0);
    expect(phases.slice(phases.findIndex((p) => p.phase === 'verify')).every((p) => p.phase === 'verify')).toBe(true);
    expect(verify[0].loaded).toBe(0);
    expect(verify.at(-1)).toMatchObject({ loaded: SIZE, total: SIZE });
  });

  it('a byte corrupted on the server after the pause fails the resumed download, which is removed', async () => {
    const data = ggufBytes(SIZE, 42);
    const { rawKeys, reopen, opts } = await partialOf('/flip.gguf', data, nodeSha256(data));
    const served = data.slice();
    served[250_000] ^= 0x01; // past the stored chunks (at most 2): only the resumed request carries it
    server.route('/flip.gguf', { data: served });
    const err = await downloadModel({ ...opts, cache: reopen() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ expected: nodeSha256(data), actual: nodeSha256(served) });
    expect((err as Error).message).toMatch(/^flip\.gguf failed its integrity check: .* It was not kept; download it again\.$/);
    expect(await rawKeys()).toEqual([]);
  });

  it('a Resume asked for a different hash starts the file over', async () => {
    const data = ggufBytes(SIZE, 43);
    const { cache, opts } = await partialOf('/other.gguf', data, 'ab'.repeat(32));
    const route = server.route('/other.gguf', { data });
    const m = await downloadModel({ ...opts, cache, expectedSha256: nodeSha256(data) });
    expect(route.ranges).toEqual([undefined]); // whole file again, not a Range continuation
    expect(m.files[0]).toMatchObject({ sha256: nodeSha256(data), expectedSha256: nodeSha256(data) });
  });
});

describe('missing chunks', () => {
  it('counts chunks IndexedDB lost and refuses to open the model', async () => {
    const data = ggufBytes(SIZE, 44);
    server.route('/gone.gguf', { data });
    const { cache } = freshCache();
    const m = await downloadModel({ url: `${server.base}/gone.gguf`, modelId: 'gone', name: 'Gone', cache });
    expect(await cache.missingChunks(m)).toBe(0);
    expect(nodeSha256(await storedFileBytes(cache, 'gone'))).toBe(nodeSha256(data));
    // what the browser does when it evicts: the chunk is gone, the manifest still counts it
    const db = (cache as unknown as { store: ReturnType<typeof createStore> }).store;
    await del('gone/0/1', db);
    await del('gone/0/3', db);
    expect(await cache.missingChunks(m)).toBe(2);
    const err = await cache.openModelSource('gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingDataError);
    expect(err).toMatchObject({ code: 'MISSING_DATA', missing: 2, total: Math.ceil(SIZE / CHUNK) });
    expect((err as Error).message).toBe('Gone is missing 2 of its 5 stored parts (the browser may have evicted them to free space). Download it again, or delete it.');
  });
});
