import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineError, GGUFError } from '../../src/shared/errors.ts';
import { StorageQuotaError } from '../../src/storage/storage-errors.ts';
import { CHUNK, freshCache, modelBytes, storedFileBytes } from './helpers.ts';

const newModel = (id: string, sizes: number[]) => ({
  id, name: id, files: sizes.map((size, i) => ({ name: `${id}-${i}.gguf`, size })), source: { kind: 'file' as const },
});

/** A stream that yields `data` in pieces of irregular sizes, optionally failing after `failAfter` bytes. */
function piecewise(data: Uint8Array, failAfter = Infinity): ReadableStream<Uint8Array> {
  let pos = 0;
  let k = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (pos >= failAfter) return ctrl.error(new TypeError('terminated'));
      if (pos >= data.length) return ctrl.close();
      const n = Math.min([1000, 70_000, 12_345, 65_536][k++ % 4], data.length - pos, failAfter - pos);
      ctrl.enqueue(data.slice(pos, pos + n));
      pos += n;
    },
  });
}

afterEach(() => vi.restoreAllMocks());

describe('ShardCache', () => {
  it('round-trips a multi-chunk file; random reads across chunk boundaries match the original', async () => {
    const { cache, rawKeys } = freshCache();
    const a = modelBytes(300_001, 3);
    const b = modelBytes(CHUNK * 2, 4); // exact multiple of the chunk size
    await cache.createModel(newModel('m1', [a.length, b.length]));
    await cache.putFile('m1', 0, new Blob([a]));
    await cache.putFile('m1', 1, piecewise(b));
    await cache.markComplete('m1');
    expect(await rawKeys()).toEqual(['m1/0/0', 'm1/0/1', 'm1/0/2', 'm1/0/3', 'm1/0/4', 'm1/1/0', 'm1/1/1', 'manifest:m1']);

    const [sa, sb] = await cache.openModelSource('m1');
    expect([sa.size, sb.size, sa.name]).toEqual([a.length, b.length, 'm1-0.gguf']);
    let seed = 99;
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    for (let i = 0; i < 200; i++) {
      const off = rand(a.length);
      const len = rand(Math.min(a.length - off, 3 * CHUNK) + 1);
      expect(Buffer.compare(await sa.read(off, len), a.subarray(off, off + len)), `read ${off}+${len}`).toBe(0);
    }
    // Exact boundary cases: a read ending at a chunk edge, starting at one, the whole file, the tail.
    for (const [off, len] of [[0, CHUNK], [CHUNK, 1], [CHUNK - 1, 2], [0, a.length], [a.length - 5, 5], [a.length, 0]]) {
      expect(Buffer.compare(await sa.read(off, len), a.subarray(off, off + len))).toBe(0);
    }
    expect(Buffer.compare(await sb.read(0, b.length), b)).toBe(0);
    await expect(sa.read(a.length - 2, 3)).rejects.toMatchObject({ code: 'GGUF_TRUNCATED' });
    await expect(sa.read(-1, 3)).rejects.toBeInstanceOf(GGUFError);
  });

  it('refuses to open or list as complete a model that is not fully stored', async () => {
    const { cache } = freshCache();
    await cache.createModel(newModel('p', [200_000]));
    await expect(cache.openModelSource('p')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(cache.markComplete('p')).rejects.toThrow(/0 of 4 chunks/);
    expect((await cache.listModels()).map((m) => [m.id, m.complete])).toEqual([['p', false]]);
  });

  it('a stream that breaks keeps exactly the whole chunks it stored, and resumes from there', async () => {
    const { cache, reopen, rawKeys } = freshCache();
    const data = modelBytes(250_000, 5);
    await cache.createModel(newModel('r', [data.length]));
    const err = await cache.putFile('r', 0, piecewise(data, 150_000)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO', name: 'InterruptedError' });
    const again = reopen(); // as after a page reload
    const m = await again.getManifest('r');
    expect(m?.files[0].chunks).toBe(2); // 150000 bytes = 2 whole chunks + a partial one that is dropped
    expect(await rawKeys()).toEqual(['manifest:r', 'r/0/0', 'r/0/1']);
    await expect(again.putFile('r', 0, piecewise(data.subarray(0)), { offset: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await again.putFile('r', 0, piecewise(data.subarray(2 * CHUNK)), { offset: 2 * CHUNK });
    await again.markComplete('r');
    expect(Buffer.compare(await storedFileBytes(again, 'r'), data)).toBe(0);
  });

  it('rejects a stream longer than the declared size', async () => {
    const { cache } = freshCache();
    await cache.createModel(newModel('long', [100_000]));
    await expect(cache.putFile('long', 0, piecewise(modelBytes(100_001)))).rejects.toThrow(/more than the expected 100000 bytes/);
  });

  it('checks the head of a file before storing its first chunk', async () => {
    const { cache, rawKeys } = freshCache();
    await cache.createModel(newModel('h', [100_000]));
    const checkHead = (head: Uint8Array): void => {
      if (head[0] !== 0x47) throw new GGUFError('GGUF_BAD_MAGIC', 'nope');
    };
    await expect(cache.putFile('h', 0, new Blob([modelBytes(100_000, 1, 'XGUF')]), { checkHead }))
      .rejects.toMatchObject({ code: 'GGUF_BAD_MAGIC' });
    expect(await rawKeys()).toEqual(['manifest:h']);
  });

  it('deleteModel removes the manifest and every chunk, leaving other models alone', async () => {
    const { cache, rawKeys } = freshCache();
    for (const id of ['a', 'a-b']) {
      await cache.createModel(newModel(id, [150_000, 70_000]));
      await cache.putFile(id, 0, new Blob([modelBytes(150_000)]));
      await cache.putFile(id, 1, new Blob([modelBytes(70_000)]));
    }
    await cache.markComplete('a');
    expect((await rawKeys()).length).toBe(2 * (1 + 3 + 2));
    await cache.deleteModel('a');
    expect(await rawKeys()).toEqual(['a-b/0/0', 'a-b/0/1', 'a-b/0/2', 'a-b/1/0', 'a-b/1/1', 'manifest:a-b']);
    expect((await cache.listModels()).map((m) => m.id)).toEqual(['a-b']);
    await cache.deleteModel('a-b');
    expect(await rawKeys()).toEqual([]);
  });

  it('maps QuotaExceededError during a chunk write to a typed QUOTA error, storing nothing of that chunk', async () => {
    const { cache, rawKeys } = freshCache();
    await cache.createModel(newModel('q', [200_000]));
    const realPut = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (key === 'q/0/1') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.call(this, value, key);
    });
    const err = await cache.putFile('q', 0, new Blob([modelBytes(200_000)])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(err).toMatchObject({ code: 'QUOTA', needed: 200_000 - CHUNK });
    expect((await cache.getManifest('q'))?.files[0].chunks).toBe(1);
    expect(await rawKeys()).toEqual(['manifest:q', 'q/0/0']);
  });

  it('rejects ids that could collide with other keys', async () => {
    const { cache } = freshCache();
    await expect(cache.createModel(newModel('a/b', [1]))).rejects.toBeInstanceOf(EngineError);
    await expect(cache.createModel(newModel('manifest:x', [1]))).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await cache.createModel(newModel('dup', [1]));
    await expect(cache.createModel(newModel('dup', [1]))).rejects.toThrow(/already stored/);
  });
});
