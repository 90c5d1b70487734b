// A model host for download tests, on its own origin (CORS like Hugging Face): serves files with
// HTTP Range support, can drop the connection halfway through a file once, and logs requests.
import http from 'node:http';
import { parseRange } from '../scripts/serve.mjs';
import { closeServer } from './harness.ts';

export interface ModelServer {
  /** origin with a trailing slash; files are at files/<name>, drop-once/<name>, slow/<name> (≈5 MB/s), huge/<name> */
  url: string;
  log: { path: string; range?: string; status: number }[];
  /** destroys every connection still sending a file, as a network that goes away does */
  cut(): void;
  /** replaces a served file (e.g. with one corrupted byte) for the requests that follow */
  set(name: string, data: Uint8Array): void;
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

export async function startModelServer(served: Record<string, Uint8Array>): Promise<ModelServer> {
  const files = { ...served };
  const log: ModelServer['log'] = [];
  const dropped = new Set<string>();
  const sending = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    sending.add(res);
    res.on('close', () => sending.delete(res));
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
  return { url: `http://localhost:${port}/`, log,
    cut: () => { for (const res of sending) res.socket?.destroy(); },
    set: (name, data) => { files[name] = data; }, close: () => closeServer(server) };
}
