// The worker's fitModel: the same verdict from a File (Blob.slice), a URL (HTTP ranges) and the
// stored copy, against this device's budget; unsupported files fail with the support check's error.
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from '../../src/worker/engine-service.ts';
import { memoryBudget } from '../../src/worker/fit.ts';
import { fixture } from '../fixtures.ts';

const bytes = new Uint8Array(readFileSync(fixture('arch', 'dev-llama32.Q8_0.gguf')));
let server: Server;
let base = '';
let served = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!m) { res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes); return; }
    const [a, b] = [Number(m[1]), Math.min(Number(m[2]), bytes.length - 1)];
    served += b - a + 1;
    res.writeHead(206, { 'Content-Length': b - a + 1, 'Content-Range': `bytes ${a}-${b}/${bytes.length}` }).end(bytes.subarray(a, b + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('EngineService.fitModel', () => {
  it('file, URL and stored copy give one verdict; the URL is read by header ranges only', async () => {
    const svc = new EngineService();
    const file = new File([bytes], 'llama32.gguf');
    const fromFile = await svc.fitModel({ kind: 'file', files: [file] }, { nCtx: 1024 });
    expect(fromFile).toMatchObject({ verdict: 'fits', backend: 'wasm', nCtx: 1024, kvType: 'f16' });
    expect(fromFile.budgetBytes).toBe(Math.min(memoryBudget().budgetBytes, 4 * 2 ** 30));
    const fromUrl = await svc.fitModel({ kind: 'url', url: `${base}/llama32.gguf` }, { nCtx: 1024 });
    expect(fromUrl).toEqual(fromFile);
    expect(served).toBeLessThan(bytes.length);
    const stored = await svc.importFiles([file]);
    expect(await svc.fitModel({ kind: 'stored', id: stored.id }, { nCtx: 1024 })).toEqual(fromFile);
    // a context this budget cannot hold: the largest it can, with every layer resident
    const long = await svc.fitModel({ kind: 'file', files: [file] }, { nCtx: 2 ** 24 });
    expect(long.verdict).toBe('fits-with-ctx');
    expect(long.maxCtx).toBeLessThan(2 ** 24);
  });

  it('an unsupported file: the support check\'s typed error', async () => {
    const junk = new File([new Uint8Array(1024)], 'junk.gguf');
    await expect(new EngineService().fitModel({ kind: 'file', files: [junk] })).rejects.toMatchObject({ code: 'GGUF_BAD_MAGIC' });
  });
});
