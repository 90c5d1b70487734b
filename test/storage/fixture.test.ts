// End to end with a real GGUF: download (with a dropped connection) or import into the cache,
// then the GGUF reader reads it back through the cache exactly as it reads the file from disk.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGGUF, type GGUFFile } from '../../src/formats/gguf/reader.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { downloadModel } from '../../src/storage/downloads.ts';
import { importModelFiles } from '../../src/storage/import-file.ts';
import { fixture } from '../fixtures.ts';
import { startServer, type TestServer } from './http-server.ts';
import { freshCache } from './helpers.ts';

const PATH = fixture('models', 'stories260K.gguf');
// From the fixture README (the value pinned upstream), not computed by our code.
const SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';

let server: TestServer;
let bytes: Uint8Array<ArrayBuffer>;
let reference: GGUFFile;
beforeAll(async () => {
  server = await startServer();
  bytes = new Uint8Array(await readFile(PATH));
  reference = await openGGUF(await openNodeFile(PATH));
});
afterAll(async () => {
  await reference.close();
  await server.close();
});

async function expectSameModel(g: GGUFFile): Promise<void> {
  expect(g.version).toBe(reference.version);
  expect([...g.metadata.keys()]).toEqual([...reference.metadata.keys()]);
  expect(g.metadata.get('general.architecture')).toBe('llama');
  expect(g.tensors).toEqual(reference.tensors);
  for (const t of reference.tensors) {
    expect(Buffer.compare(await g.readTensor(t), await reference.readTensor(t)), t.name).toBe(0);
  }
}

describe('real GGUF through the cache', () => {
  it('download with a dropped connection, verified against the published sha256, reads like the file', async () => {
    server.route('/stories260K.gguf', { data: bytes, dropAfter: 500_000 });
    const { cache } = freshCache();
    const m = await downloadModel({
      url: `${server.base}/stories260K.gguf`, modelId: 'stories', name: 'stories260K', cache,
      expectedSha256: SHA256, retryDelayMs: 5,
    });
    expect(m.files[0]).toMatchObject({ size: 1_185_376, sha256: SHA256 });
    const g = await openGGUF(await cache.openModelSource('stories'));
    await expectSameModel(g);
    await g.close();
  });

  it('import of the local file reads like the file', async () => {
    const { cache } = freshCache();
    const m = await importModelFiles([new File([bytes], 'stories260K.gguf')], { cache });
    expect(m.id).toBe('stories260K');
    const g = await openGGUF(await cache.openModelSource(m.id));
    await expectSameModel(g);
    await g.close();
  });
});
