// An MLC-LLM folder stored as it is (storage/import-mlc.ts) in IndexedDB (fake-indexeddb) and opened
// again through the stored chunks: every file's bytes are the folder's, and openMLCFolder over the
// stored files gives the tensor table and weight bytes it gives over the folder on disk. Bad folders
// (truncated or missing shard, malformed tensor-cache.json, too large for the device) and a cancel
// fail with a typed error naming the file, and leave no key in the database.
import { mkdirSync, mkdtempSync, openAsBlob, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PickedFolder } from '../../src/formats/blob-folder.ts';
import { openMLCFolder, type MLCModelFile } from '../../src/formats/mlc/folder.ts';
import { openNodeModel } from '../../src/formats/node-file-source.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { importMLCFolder, type FileStoreProgress } from '../../src/storage/import-mlc.ts';
import { storedFolder } from '../../src/storage/stored-folder.ts';
import { ModelStore } from '../../src/worker/model-store.ts';
import { fixture } from '../fixtures.ts';
import { writeMLCFolder } from '../fixtures/mlc-writer.ts';
import { freshCache, storedFileBytes } from './helpers.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlc-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let good: string;
beforeAll(async () => {
  // 256 KiB shards: several files, each over several 64 KiB chunks
  good = (await writeMLCFolder(fixture('models', 'TinyStories-656K'), 'q4f16_1', path.join(tmp, 'good'), 1 << 18)).mlc;
}, 60_000);

/** The folder as the page's folder input gives it: Blobs by path. */
async function pick(dir: string, name = path.basename(dir)): Promise<PickedFolder> {
  const names = readdirSync(dir);
  return { name, files: await Promise.all(names.map(async (n) => ({ path: n, file: await openAsBlob(path.join(dir, n)) }))) };
}

/** A copy of the good folder, edited. */
function variant(tag: string, edit: (dir: string) => void): string {
  const dir = path.join(tmp, tag);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const n of readdirSync(good)) writeFileSync(path.join(dir, n), readFileSync(path.join(good, n)));
  edit(dir);
  return dir;
}

async function failure(p: Promise<unknown>): Promise<EngineError> {
  try { await p; } catch (e) { if (e instanceof EngineError) return e; throw e; }
  throw new Error('did not throw');
}

describe('an MLC folder stored as it is', () => {
  it('stores every file the loader reads, byte for byte, with per-file progress; reopens as the same model', async () => {
    const { cache, rawKeys } = freshCache();
    const seen: FileStoreProgress[] = [];
    const m = await importMLCFolder(await pick(good, 'tiny-mlc'), { cache, onProgress: (p) => seen.push(p) });
    const shards = readdirSync(good).filter((n) => n.startsWith('params_shard_')).sort();
    expect(shards.length).toBeGreaterThan(1);
    expect(m).toMatchObject({ id: 'tiny-mlc', complete: true, format: 'mlc', quantization: 'q4f16_1' });
    expect(m.files.map((f) => f.name).sort()).toEqual(['mlc-chat-config.json', 'tensor-cache.json', 'tokenizer.json', 'tokenizer_config.json', ...shards].sort());
    for (const [i, f] of m.files.entries()) expect(Buffer.compare(await storedFileBytes(cache, m.id, i), readFileSync(path.join(good, f.name))), f.name).toBe(0);
    expect(new Set(seen.map((p) => p.index)).size).toBe(m.files.length);
    expect(seen.at(-1)).toMatchObject({ doneBytes: seen[0].totalBytes, count: m.files.length });
    expect((await rawKeys()).length).toBeGreaterThan(m.files.length);

    const disk = await openNodeModel(good) as MLCModelFile;
    const stored = await openMLCFolder(await storedFolder(cache, m.id));
    try {
      expect(stored.mlc).toEqual(disk.mlc);
      expect(stored.tensors.map(({ name, type, shape, offset }) => ({ name, type, shape, offset })))
        .toEqual(disk.tensors.map(({ name, type, shape, offset }) => ({ name, type, shape, offset })));
      const size = disk.sources[0].size;
      expect(stored.sources[0].size).toBe(size);
      expect(Buffer.compare(await stored.sources[0].read(0, size), await disk.sources[0].read(0, size))).toBe(0);
    } finally {
      await disk.close();
      await stored.close();
    }
  });

  it('the worker\'s store: importFolder picks the MLC path, lists it as MLC, opens it for the loader, refuses a .gguf export', async () => {
    const store = new ModelStore();
    const folder = await pick(good, 'worker-mlc') as unknown as { name: string; files: { path: string; file: File }[] };
    const sm = await store.importFolder({ importId: 'x', folder, type: 'Q4_K_M' });
    expect(sm).toMatchObject({ id: 'worker-mlc', name: 'worker-mlc', format: 'mlc', quantization: 'q4f16_1', complete: true });
    expect((await store.list()).find((x) => x.id === 'worker-mlc')?.format).toBe('mlc');
    const input = await (await store.open('worker-mlc')).input() as MLCModelFile;
    expect(input.mlc.quantization).toBe('q4f16_1');
    expect(input.tensor('blk.0.attn_qkv.weight')).toBeDefined();
    await input.close();
    expect((await failure(store.exportFile('worker-mlc'))).message).toMatch(/stored as MLC weights.*cannot be exported as \.gguf/);
    await store.delete('worker-mlc');
  });
});

describe('bad MLC folders store nothing', () => {
  const refused = async (dir: string, opts: Parameters<typeof importMLCFolder>[1] = {}) => {
    const { cache, rawKeys } = freshCache();
    const e = await failure(importMLCFolder(await pick(dir), { cache, ...opts }));
    expect(await rawKeys()).toEqual([]);
    return e;
  };

  it('a truncated shard: MLC_TRUNCATED naming the shard', async () => {
    const e = await refused(variant('truncated', (d) => truncateSync(path.join(d, 'params_shard_1.bin'), 1000)));
    expect(e.code).toBe('MLC_TRUNCATED');
    expect(e.message).toMatch(/params_shard_1\.bin has 1000 bytes, but tensor-cache\.json says \d+/);
  });

  it('a missing shard: SPLIT_MISSING naming the shard', async () => {
    const e = await refused(variant('missing', (d) => unlinkSync(path.join(d, 'params_shard_0.bin'))));
    expect(e.code).toBe('SPLIT_MISSING');
    expect(e.message).toContain('params_shard_0.bin');
  });

  it('a malformed tensor-cache.json record: MLC_CORRUPT naming the tensor', async () => {
    const e = await refused(variant('corrupt', (d) => {
      const f = path.join(d, 'tensor-cache.json');
      const j = JSON.parse(readFileSync(f, 'utf8'));
      j.records[0].records[0].nbytes += 2;
      writeFileSync(f, JSON.stringify(j));
    }));
    expect(e.code).toBe('MLC_CORRUPT');
    expect(e.message).toMatch(/tensor-cache\.json.*tensor 'model\.embed_tokens\.q_weight'/);
  });

  it('too large for the device: DOES_NOT_FIT before a byte is stored', async () => {
    const e = await refused(good, { fit: { budget: { memoryBytes: 64 * 1024 }, backends: ['wasm'] } });
    expect(e.code).toBe('DOES_NOT_FIT');
    expect(e.message).toMatch(/^mlc-q4f16_1 cannot run on this device/);
  });

  it('cancelled on the third file: ABORTED, the files already stored are removed again', async () => {
    const ctrl = new AbortController();
    let stored = 0;
    const e = await refused(good, { signal: ctrl.signal, onProgress: (p) => { stored = Math.max(stored, p.doneBytes); if (p.index >= 2) ctrl.abort(); } });
    expect(e.code).toBe('ABORTED');
    expect(stored).toBeGreaterThan(0);
  });
});
