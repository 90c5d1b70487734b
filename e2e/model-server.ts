// A model host for download tests, on its own origin (CORS like Hugging Face): serves files with
// HTTP Range support, can drop the connection halfway through a file once, and logs requests.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Page } from 'playwright';
import { parseRange } from '../scripts/serve.mjs';
import { closeServer, FIXTURES } from './harness.ts';

export interface ModelServer {
  /** origin with a trailing slash; files are at files/<name>, drop-once/<name>, slow/<name> (≈5 MB/s), huge/<name> */
  url: string;
  log: { path: string; range?: string; status: number }[];
  close(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/** 256 KiB every 50 ms, until done or the client goes away. */
async function trickle(res: http.ServerResponse, data: Uint8Array): Promise<void> {
  for (let o = 0; o < data.length && !res.destroyed; o += 256 * 1024) {
    res.write(data.subarray(o, o + 256 * 1024));
    await new Promise((r) => setTimeout(r, 50));
  }
  res.end();
}

export async function startModelServer(files: Record<string, Uint8Array>): Promise<ModelServer> {
  const log: ModelServer['log'] = [];
  const dropped = new Set<string>();
  const server = http.createServer((req, res) => {
    const [, route, name] = /^\/([^/]+)\/(.+)$/.exec(req.url ?? '') ?? [];
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Allow-Methods': 'GET' }).end();
      return;
    }
    if (route === 'huge') {
      // Announces a model larger than any browser quota (1 PiB) and never sends a byte of it.
      log.push({ path: req.url ?? '', range: req.headers.range, status: 200 });
      res.writeHead(200, { ...CORS, 'Content-Type': 'application/octet-stream', 'Content-Length': String(2 ** 50) });
      res.flushHeaders();
      return;
    }
    const body = name ? files[name] : undefined;
    const range = body ? parseRange(req.headers.range, body.length) : undefined;
    const status = !body || !['files', 'drop-once', 'slow'].includes(route) ? 404 : range === null ? 416 : range ? 206 : 200;
    log.push({ path: req.url ?? '', range: req.headers.range, status });
    if (status === 404 || status === 416 || !body) {
      res.writeHead(status, { ...CORS, 'Content-Type': 'text/plain' }).end(status === 404 ? 'Not found' : '');
      return;
    }
    const { start, end } = range ?? { start: 0, end: body.length - 1 };
    res.writeHead(status, {
      ...CORS,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${body.length}` } : {}),
    });
    const part = body.subarray(start, end + 1);
    // Header reads (closed ranges) pass: the drop is meant for the body transfer.
    if (route === 'drop-once' && !dropped.has(name) && !/^bytes=\d+-\d+$/.test(req.headers.range ?? '')) {
      dropped.add(name);
      // Half the bytes, then the connection dies: the client sees a network error mid-body.
      res.write(part.subarray(0, part.length >> 1), () => setTimeout(() => res.socket?.destroy(), 200));
      return;
    }
    if (route === 'slow') {
      void trickle(res, part);
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://localhost:${port}/`, log, close: () => closeServer(server) };
}

/** stories260K followed by pseudo-random padding: a valid GGUF larger than two 16 MiB storage chunks. */
export function paddedModel(size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(readFileSync(path.join(FIXTURES, 'models/stories260K.gguf')));
  let x = 0x9e3779b9;
  for (let i = 1185376; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** SHA-256 of what IndexedDB holds for file 0 of a model, read from the raw chunks in the page. */
export function storedSha256(page: Page, id: string): Promise<string> {
  return page.evaluate((modelId) => new Promise<string>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const store = open.result.transaction('shards').objectStore('shards');
      const keys = store.getAllKeys(IDBKeyRange.bound(`${modelId}/0/`, `${modelId}/0/\uffff`));
      keys.onsuccess = () => {
        const sorted = (keys.result as string[]).sort((a, b) => Number(a.split('/')[2]) - Number(b.split('/')[2]));
        const values = sorted.map((k) => store.get(k));
        let left = values.length;
        for (const v of values) {
          v.onsuccess = async () => {
            if (--left > 0) return;
            const parts = values.map((r) => r.result as Uint8Array);
            const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let o = 0;
            for (const p of parts) { all.set(p, o); o += p.length; }
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
            resolve(Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''));
          };
        }
      };
    };
  }), id);
}
