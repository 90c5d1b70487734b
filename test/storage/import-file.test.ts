import { describe, expect, it } from 'vitest';
import { importModelFiles } from '../../src/storage/import-file.ts';
import { freshCache, ggufBytes, modelBytes, nodeSha256, splitModelBytes, storedFileBytes } from './helpers.ts';

const file = (bytes: Uint8Array<ArrayBuffer>, name: string): File => new File([bytes], name);

describe('importModelFiles', () => {
  it('imports shards given out of order, in file order, with progress; bytes read back intact', async () => {
    const { cache } = freshCache();
    const parts = splitModelBytes([150_000, 70_000, 65_536], 41);
    const files = [file(parts[2], 'q-00003-of-00003.gguf'), file(parts[0], 'q-00001-of-00003.gguf'), file(parts[1], 'q-00002-of-00003.gguf')];
    const seen: number[] = [];
    const m = await importModelFiles(files, { onProgress: (p) => seen.push(p.loaded), cache });
    expect(m).toMatchObject({ id: 'q', name: 'q', complete: true, source: { kind: 'file' } });
    expect(m.files.map((f) => [f.name, f.size, f.chunks])).toEqual([
      ['q-00001-of-00003.gguf', 150_000, 3], ['q-00002-of-00003.gguf', 70_000, 2], ['q-00003-of-00003.gguf', 65_536, 1],
    ]);
    expect(seen.at(-1)).toBe(285_536);
    for (let i = 0; i < 3; i++) expect(nodeSha256(await storedFileBytes(cache, 'q', i))).toBe(nodeSha256(parts[i]));
    const sources = await cache.openModelSource('q');
    expect(Buffer.compare(await sources[1].read(60_000, 10_000), parts[1].subarray(60_000, 70_000))).toBe(0);
  });

  it('rejects a shard that is not GGUF before storing anything', async () => {
    const { cache, rawKeys } = freshCache();
    const files = [file(splitModelBytes([100_000, 100_000], 44)[0], 'z-00001-of-00002.gguf'), file(modelBytes(100_000, 45, 'PK\x03\x04'), 'z-00002-of-00002.gguf')];
    await expect(importModelFiles(files, { cache })).rejects.toMatchObject({
      code: 'GGUF_BAD_MAGIC', message: expect.stringContaining('z-00002-of-00002.gguf is not a GGUF model file (it starts with bytes 50 4b 03 04'),
    });
    expect(await rawKeys()).toEqual([]);
  });

  it('an aborted import leaves nothing; an id that is taken is refused', async () => {
    const { cache, rawKeys } = freshCache();
    const ctrl = new AbortController();
    const f = file(ggufBytes(300_000, 46), 'My Model Q4_K_M.gguf');
    await expect(importModelFiles([f], {
      cache, signal: ctrl.signal, onProgress: (p) => { if (p.loaded > 0) ctrl.abort(); },
    })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await rawKeys()).toEqual([]);
    const m = await importModelFiles([f], { cache });
    expect(m.id).toBe('My-Model-Q4_K_M');
    await expect(importModelFiles([f], { cache })).rejects.toThrow(/already stored; delete it first/);
  });
});
