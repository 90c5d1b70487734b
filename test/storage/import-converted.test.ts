// A Hugging Face folder as browser Files (folderFromFileList, blobFolder), quantized with several chunks in flight (so
// writes land out of order) straight into the shard cache: the stored bytes equal the same
// quantization written into memory; a failure or cancel mid-way leaves no key behind.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobFolder, type PickedFolder } from '../../src/formats/blob-folder.ts';
import { folderFromFileList } from '../../src/ui/state/folder-pick.ts';
import { blobSource } from '../../src/formats/blob-source.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openHFFolder } from '../../src/formats/hf/folder.ts';
import { planQuantization, quantizeModel, type QuantizeSink } from '../../src/quant/quantize-model.ts';
import { importConverted } from '../../src/storage/import-converted.ts';
import { fixture } from '../fixtures.ts';
import { freshCache, nodeSha256, storedFileBytes } from './helpers.ts';

const dir = fixture('models', 'TinyStories-656K');

/** The fixture as an `<input webkitdirectory>` gives it: Files with webkitRelativePath. */
function picked(): PickedFolder {
  const files = readdirSync(dir).map((n) => {
    const f = new File([readFileSync(path.join(dir, n))], n);
    Object.defineProperty(f, 'webkitRelativePath', { value: `TinyStories-656K/${n}` });
    return f;
  });
  return folderFromFileList(files);
}

// a GGUF stands in for the converter here (the folder → GGUF conversion is tested with it in e2e)
const stories = new File([readFileSync(fixture('models', 'stories260K.gguf'))], 'stories260K.gguf');

async function quantizeInto(sink: QuantizeSink, inFlight: number): Promise<number> {
  const file = await openGGUF(blobSource(stories));
  return quantizeModel(file, planQuantization(file, 'Q8_0'), sink, undefined, { inFlight });
}

async function inMemory(): Promise<Uint8Array> {
  let out = new Uint8Array(0);
  await quantizeInto({
    async write(pos, bytes) {
      if (pos + bytes.length > out.length) { const n = new Uint8Array(pos + bytes.length); n.set(out); out = n; }
      out.set(bytes, pos);
    },
  }, 1);
  return out;
}

describe('folders from browser Files', () => {
  it('names files relative to the picked folder and reads only ranges', async () => {
    const p = picked();
    expect(p.name).toBe('TinyStories-656K');
    expect(p.files.map((f) => f.path).sort()).toEqual(readdirSync(dir).sort());
    const src = await blobFolder(p).open('config.json');
    expect(new TextDecoder().decode(await src.read(0, 1))).toBe('{');
    await expect(blobFolder(p).open('nope.bin')).rejects.toMatchObject({ code: 'IO', message: 'TinyStories-656K/nope.bin is not in the folder.' });
    expect(() => blobFolder({ name: 'x', files: [p.files[0], p.files[0]] })).toThrow(/given twice/);
    const hf = await openHFFolder(blobFolder(p));
    expect(hf.tensor('blk.0.attn_q.weight')?.shape).toEqual([128, 128]);
  });
});

describe('importConverted', () => {
  it('stores the file as written, in order, although chunks arrive out of order', async () => {
    const { cache } = freshCache(64 * 1024);
    const expected = await inMemory();
    let outOfOrder = 0;
    let last = -1;
    const m = await importConverted((sink) => quantizeInto({
      write: (pos, b) => { if (pos < last) outOfOrder++; last = pos; return sink.write(pos, b); },
    }, 4), { name: 'stories260K Q8_0', cache });
    expect(m).toMatchObject({ id: 'stories260K-Q8_0', complete: true, files: [{ name: 'stories260K-Q8_0.gguf', size: expected.length }] });
    expect(nodeSha256(await storedFileBytes(cache, m.id))).toBe(nodeSha256(expected));
    console.log(`stored ${expected.length} bytes; ${outOfOrder} writes behind an earlier one`);
  });

  it('a converter failure or a cancel mid-way leaves nothing stored', async () => {
    const { cache, rawKeys } = freshCache(64 * 1024);
    let n = 0;
    await expect(importConverted((sink) => quantizeInto({
      write: async (pos, b) => { if (++n === 20) throw new Error('boom'); await sink.write(pos, b); },
    }, 2), { name: 'broken', cache })).rejects.toThrow('boom');
    expect(await rawKeys()).toEqual([]);
    const ctrl = new AbortController();
    n = 0;
    await expect(importConverted((sink) => quantizeInto({
      write: async (pos, b) => { if (++n === 10) ctrl.abort(); await sink.write(pos, b); },
    }, 2), { name: 'cancelled', cache, signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await rawKeys()).toEqual([]);
  });

  it('a header the engine cannot run is refused before anything is stored', async () => {
    const { cache, rawKeys } = freshCache();
    const bytes = await inMemory();
    bytes.set(new TextEncoder().encode('GGUX'), 0);
    await expect(importConverted((sink) => sink.write(0, bytes.subarray(0, 4096)), { name: 'bad', cache }))
      .rejects.toMatchObject({ code: 'GGUF_BAD_MAGIC' });
    expect(await rawKeys()).toEqual([]);
  });
});
