// A model too large for the device is refused from its header alone (DOES_NOT_FIT, "needs A, has
// B"), before a byte is stored: by URL before the body is requested, by import before the copy.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FitRequest } from '../../src/models/fit.ts';
import { downloadModel } from '../../src/storage/downloads.ts';
import { importModelFiles } from '../../src/storage/import-file.ts';
import { fixture } from '../fixtures.ts';
import { freshCache } from './helpers.ts';
import { startServer, type TestServer } from './http-server.ts';

const bytes = new Uint8Array(readFileSync(fixture('arch', 'dev-qwen3.Q8_0.gguf')));
// dev-qwen3 needs ~85 MiB on WASM at its default context (a 152k vocabulary's logits and tokenizer)
const small: FitRequest = { budget: { memoryBytes: 16 * 2 ** 20 }, backends: ['wasm'] };
const large: FitRequest = { budget: { memoryBytes: 2 ** 30 }, backends: ['wasm'] };

describe('a model that does not fit is refused before it is stored', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startServer(); });
  afterAll(async () => { await server.close(); });

  it('download: header ranges only, no body request, nothing stored; a device with room downloads it', async () => {
    const route = server.route('/qwen3.gguf', { data: bytes });
    const { cache, rawKeys } = freshCache();
    const err = await downloadModel({ url: `${server.base}/qwen3.gguf`, modelId: 'q3', name: 'q3', cache, fit: small }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DOES_NOT_FIT', message: expect.stringMatching(/qwen3\.gguf cannot run on this device: it needs [\d.]+ MiB .*has 16\.0 MiB/) });
    expect(route.headRanges.length).toBeGreaterThan(0);
    expect(route.ranges).toEqual([]);
    expect(await rawKeys()).toEqual([]);
    const m = await downloadModel({ url: `${server.base}/qwen3.gguf`, modelId: 'q3', name: 'q3', cache, fit: large });
    expect(m.complete).toBe(true);
  });

  it('import: refused with nothing stored', async () => {
    const { cache, rawKeys } = freshCache();
    await expect(importModelFiles([new File([bytes], 'qwen3.gguf')], { cache, fit: small })).rejects.toMatchObject({ code: 'DOES_NOT_FIT' });
    expect(await rawKeys()).toEqual([]);
    expect((await importModelFiles([new File([bytes], 'qwen3.gguf')], { cache, fit: large })).complete).toBe(true);
  });
});
