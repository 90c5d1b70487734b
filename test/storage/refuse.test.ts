// A model the engine cannot run, or a split set that is not one whole model, is refused from its
// header alone, before anything is stored; a refused import or download leaves IndexedDB as it was.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueType } from '../../src/formats/gguf/constants.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { writeGGUF, type WriterEntry } from '../../src/formats/gguf/writer.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { SUPPORTED_ARCHS } from '../../src/models/registry.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { downloadModel } from '../../src/storage/downloads.ts';
import { importModelFiles } from '../../src/storage/import-file.ts';
import { fixture } from '../fixtures.ts';
import { freshCache, ggufBytes, nodeSha256, splitModelBytes, storedFileBytes, tinyModel, type TinyModel } from './helpers.ts';
import { startServer, type TestServer } from './http-server.ts';

const PROBE = 'bytes=0-1048575';
const file = (bytes: Uint8Array<ArrayBuffer>, name: string): File => new File([bytes], name);
const dir = mkdtempSync(path.join(tmpdir(), 'refuse-'));

/** A copy of stories260K in the temp dir with general.architecture renamed (never committed). */
async function fakeArchCopy(arch: string): Promise<string> {
  const f = await openGGUF(await openNodeFile(fixture('models', 'stories260K.gguf')));
  const meta: WriterEntry[] = [...f.metadata].map(([key, value]) => ({
    key, value: key === 'general.architecture' ? arch : value, type: f.metadataTypes.get(key)!,
  }));
  const tensors = await Promise.all(f.tensors.map(async (t) => ({ ...t, data: await f.readTensor(t) })));
  await f.close();
  const out = path.join(dir, `stories-${arch}.gguf`);
  writeFileSync(out, writeGGUF(meta, tensors));
  return out;
}

/** A File that records every byte range read from it. */
function watched(bytes: Uint8Array<ArrayBuffer>, name: string): { f: File; reads: [number, number][] } {
  const f = file(bytes, name);
  const reads: [number, number][] = [];
  const slice = f.slice.bind(f);
  f.slice = (start?: number, end?: number, type?: string) => { reads.push([start ?? 0, end ?? f.size]); return slice(start, end, type); };
  return { f, reads };
}

function withType(type: number): TinyModel {
  const m = tinyModel();
  m.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!.type = type;
  return m;
}

/** tinyModel plus `bytes` of extra metadata: a header larger than the first read. */
/** Header requests after the probe: each starts where the last ended, and together they fetch
 *  at most twice the header (the reader grows its read by what the parser still lacks). */
function expectGrowth(ranges: string[], header: number): void {
  expect(ranges[0]).toBe(PROBE);
  let end = (1 << 20) - 1;
  for (const r of ranges.slice(1)) {
    const [a, b] = /^bytes=(\d+)-(\d+)$/.exec(r)!.slice(1).map(Number);
    expect(a).toBe(end + 1);
    end = b;
  }
  expect(end + 1).toBeGreaterThanOrEqual(header);
  expect(end + 1).toBeLessThanOrEqual(2 * header + (1 << 20));
}

function bigHeader(bytes: number, arch = 'llama'): TinyModel {
  const m = tinyModel(arch);
  m.meta.push({ key: 'test.filler', value: 'x'.repeat(bytes), type: { type: ValueType.STRING } });
  return m;
}

describe('import refuses before storing', () => {
  it('an unsupported architecture: typed error naming it and the supported ones; the stored model is untouched', async () => {
    const { cache, rawKeys } = freshCache();
    await importModelFiles([file(ggufBytes(100_000, 1), 'kept.gguf')], { cache });
    const before = await rawKeys();
    const copy = await fakeArchCopy('notarealarch');
    const { f, reads } = watched(new Uint8Array(readFileSync(copy)), 'stories-notarealarch.gguf');
    const err = await importModelFiles([f], { cache }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UnsupportedError', code: 'UNSUPPORTED_ARCH' });
    expect((err as Error).message).toContain(`'notarealarch'`);
    expect((err as Error).message).toContain(`supported: ${SUPPORTED_ARCHS.join(', ')}`);
    expect(await rawKeys()).toEqual(before);
    expect(await cache.getManifest('stories-notarealarch')).toBeUndefined();
    // header only: nothing past the first MiB was read
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every(([, end]) => end <= 1 << 20)).toBe(true);
  });

  it('an unsupported tensor type, naming tensor and type', async () => {
    const { cache, rawKeys } = freshCache();
    await expect(importModelFiles([file(ggufBytes(100_000, 2, withType(GGMLType.IQ2_XXS)), 'iq.gguf')], { cache }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE', message: expect.stringMatching(/'blk\.0\.ffn_up\.weight' uses IQ2_XXS.*supported: F32/) });
    expect(await rawKeys()).toEqual([]);
  });

  it('an unsupported architecture in part 1 of a split set', async () => {
    const { cache, rawKeys } = freshCache();
    const parts = splitModelBytes([60_000, 60_000], 3, tinyModel('notarealarch'));
    await expect(importModelFiles(parts.map((p, i) => file(p, `a-0000${i + 1}-of-00002.gguf`)), { cache }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED_ARCH' });
    expect(await rawKeys()).toEqual([]);
  });

  it('split sets that are not one whole model: missing, foreign and duplicated parts', async () => {
    const { cache, rawKeys } = freshCache();
    const three = splitModelBytes([60_000, 60_000, 60_000], 4);
    const two = splitModelBytes([60_000, 60_000], 5);
    const otherModel = splitModelBytes([60_000, 60_000, 60_000], 6, tinyModel(), { tensors: 12 });
    const n = (k: number, of: number, base = 'm') => `${base}-0000${k}-of-0000${of}.gguf`;
    const cases: [File[], string, RegExp][] = [
      [[file(three[0], n(1, 3)), file(three[2], n(3, 3))], 'SPLIT_MISSING', /split into 3 files; part 2 \(m-00002-of-00003\.gguf\) is missing/],
      [[file(three[1], n(2, 3)), file(three[2], n(3, 3))], 'SPLIT_MISSING', /part 1 \(m-00001-of-00003\.gguf\) is missing/],
      [[file(three[0], n(1, 3))], 'SPLIT_MISSING', /parts 2, 3 .* are missing/],
      [[file(three[0], n(1, 3)), file(two[1], n(2, 2)), file(three[2], n(3, 3))], 'SPLIT_FOREIGN', /m-00002-of-00002\.gguf belongs to a model split into 2 files/],
      [[file(three[0], n(1, 3)), file(otherModel[1], n(2, 3)), file(three[2], n(3, 3))], 'SPLIT_FOREIGN', /model with 12 tensors/],
      [[file(three[0], n(1, 3)), file(three[1], n(2, 3, 'x')), file(three[2], n(3, 3))], 'SPLIT_FOREIGN', /x-00002-of-00003\.gguf does not belong to the same split model/],
      [[file(three[0], n(1, 3)), file(ggufBytes(60_000, 7), 'whole.gguf')], 'SPLIT_FOREIGN', /whole\.gguf is a whole single-file model/],
      [[file(ggufBytes(60_000, 8), 'a.gguf'), file(ggufBytes(60_000, 9), 'b.gguf')], 'SPLIT_FOREIGN', /separate single-file models/],
      [[file(three[0], n(1, 3)), file(three[1], n(2, 3)), file(three[1], n(2, 3)), file(three[2], n(3, 3))], 'SPLIT_DUPLICATE', /m-00002-of-00003\.gguf was selected twice/],
    ];
    for (const [files, code, message] of cases) {
      const e = await importModelFiles(files, { cache }).catch((x: unknown) => x);
      expect(e, files.map((f) => f.name).join()).toMatchObject({ name: 'SplitSetError', code });
      expect((e as Error).message).toMatch(message);
    }
    // two different files that both say they are part 2
    const renamed = [file(three[0], n(1, 3)), file(three[1], 'm-part-two.gguf'), file(otherModel[1], 'm-part-2b.gguf'), file(three[2], n(3, 3))];
    await expect(importModelFiles(renamed, { cache })).rejects.toMatchObject({ code: 'SPLIT_FOREIGN' });
    const dup = [file(three[0], 'p1.gguf'), file(three[1], 'p2.gguf'), file(three[1], 'p2-copy.gguf'), file(three[2], 'p3.gguf')];
    await expect(importModelFiles(dup, { cache })).rejects.toMatchObject({ code: 'SPLIT_DUPLICATE', message: expect.stringContaining('p2.gguf and p2-copy.gguf are both part 2 of 3') });
    expect(await rawKeys()).toEqual([]);
  });

  it('orders renamed parts by their headers', async () => {
    const { cache } = freshCache();
    const parts = splitModelBytes([60_000, 70_000, 80_000], 10);
    const m = await importModelFiles([file(parts[2], 'c.gguf'), file(parts[0], 'a.gguf'), file(parts[1], 'b.gguf')], { cache });
    expect(m.files.map((f) => f.name)).toEqual(['a.gguf', 'b.gguf', 'c.gguf']);
    for (let i = 0; i < 3; i++) expect(nodeSha256(await storedFileBytes(cache, m.id, i))).toBe(nodeSha256(parts[i]));
  });
});

describe('download refuses before the body is fetched', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startServer(); });
  afterAll(async () => { await server.close(); });
  const get = (route: string, modelId: string, cache: ReturnType<typeof freshCache>['cache']) =>
    downloadModel({ url: `${server.base}${route}`, modelId, name: modelId, cache }).catch((e: unknown) => e);

  it('an unsupported architecture: one range request for the header, no body, nothing stored', async () => {
    const route = server.route('/fake.gguf', { data: new Uint8Array(readFileSync(await fakeArchCopy('notarealarch'))) });
    const { cache, rawKeys } = freshCache();
    expect(await get('/fake.gguf', 'fake', cache)).toMatchObject({ code: 'UNSUPPORTED_ARCH', message: expect.stringContaining(`'notarealarch'`) });
    expect(route.headRanges).toEqual([PROBE]);
    expect(route.ranges).toEqual([]);
    expect(await rawKeys()).toEqual([]);
  });

  it('an unsupported tensor type, and a server that ignores Range (its stream is read only as far as the header)', async () => {
    const data = ggufBytes(300_000, 11, withType(GGMLType.TQ2_0));
    const ranged = server.route('/tq.gguf', { data });
    const plain = server.route('/tq-norange.gguf', { data, ignoreRange: true });
    const { cache, rawKeys } = freshCache();
    for (const r of ['/tq.gguf', '/tq-norange.gguf']) {
      expect(await get(r, 'tq', cache)).toMatchObject({ code: 'UNSUPPORTED_TYPE', message: expect.stringContaining(`'blk.0.ffn_up.weight' uses TQ2_0`) });
    }
    expect([ranged.ranges, plain.ranges]).toEqual([[], []]);
    expect(await rawKeys()).toEqual([]);
  });

  it('a header larger than the first MiB: the range grows by the missing bytes only', async () => {
    const bad = server.route('/big-head-bad.gguf', { data: ggufBytes(6_000_000, 12, bigHeader(2_500_000, 'notarealarch')) });
    const { cache, rawKeys } = freshCache();
    expect(await get('/big-head-bad.gguf', 'bhb', cache)).toMatchObject({ code: 'UNSUPPORTED_ARCH' });
    expectGrowth(bad.headRanges, 2_500_000);
    expect(bad.ranges).toEqual([]);
    expect(await rawKeys()).toEqual([]);

    const data = ggufBytes(6_000_000, 13, bigHeader(2_500_000));
    const good = server.route('/big-head.gguf', { data });
    const m = await downloadModel({ url: `${server.base}/big-head.gguf`, modelId: 'bh', name: 'bh', cache });
    expect(m.complete).toBe(true);
    expectGrowth(good.headRanges, 2_500_000);
    expect(good.ranges).toEqual([undefined]);
    expect(nodeSha256(await storedFileBytes(cache, 'bh'))).toBe(nodeSha256(data));
  });

  it('one part of a split model: refused, pointing to import', async () => {
    const route = server.route('/m-00001-of-00002.gguf', { data: splitModelBytes([100_000, 100_000], 14)[0] });
    const { cache, rawKeys } = freshCache();
    expect(await get('/m-00001-of-00002.gguf', 'part', cache)).toMatchObject({
      code: 'SPLIT_MISSING', message: expect.stringMatching(/m-00001-of-00002\.gguf is one part of a model split into 2 files.*import them together/),
    });
    expect(route.ranges).toEqual([]);
    expect(await rawKeys()).toEqual([]);
  });
});
