// The bundled demo model is checked against the catalogue's SHA-256 (public/models.json) when it
// is fetched: the catalogue's hash must be the shipped file's, and a damaged copy is refused.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/storage/storage-errors.ts';
import { openBundled } from '../../src/worker/model-store.ts';
import { startServer, type TestServer } from '../storage/http-server.ts';

const publicDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');
const catalogue = JSON.parse(readFileSync(path.join(publicDir, 'models.json'), 'utf8')) as { models: { url: string; bundled?: boolean; sha256?: string; size: number }[] };
const bundled = catalogue.models.filter((m) => m.bundled);

let server: TestServer;
beforeAll(async () => { server = await startServer(); });
afterAll(async () => { await server.close(); });

describe('bundled model integrity', () => {
  it('every bundled catalogue entry has the SHA-256 and size of the file in public/', () => {
    expect(bundled.length).toBeGreaterThan(0);
    for (const e of bundled) {
      const bytes = readFileSync(path.join(publicDir, e.url));
      expect(e.sha256, e.url).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(e.size, e.url).toBe(bytes.length);
    }
  });

  it('opens the intact file and refuses one with a flipped byte', async () => {
    const e = bundled[0];
    const bytes = readFileSync(path.join(publicDir, e.url));
    server.route('/ok.gguf', { data: bytes });
    const src = await openBundled(`${server.base}/ok.gguf`, 'demo', e.sha256);
    expect(src.size).toBe(bytes.length);
    const bad = Uint8Array.from(bytes);
    bad[bad.length >> 1] ^= 0x80;
    server.route('/bad.gguf', { data: bad });
    const err = await openBundled(`${server.base}/bad.gguf`, 'demo', e.sha256).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/^bad\.gguf failed its integrity check: .*Reload the page to fetch it again\.$/);
  });
});
