// Serves registered files on disk with HTTP range requests (/__file/<n>/<name>), as a web server
// serves a model: the browser harness's Vite server and the Node (Dawn) test harness use it.
import { createReadStream, promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/** cross-origin isolation, which SharedArrayBuffer (WASM threads) needs in a page */
export const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Registers a file for fileRoute(files) and returns the URL it is served at under `origin`. */
export function registerFile(files: string[], origin: string, absPath: string): string {
  files.push(path.resolve(absPath));
  return `${origin}/__file/${files.length - 1}/${encodeURIComponent(path.basename(absPath))}`;
}

/** Range-capable static route for registered files: /__file/<n>/<name>. */
export function fileRoute(files: string[]) {
  return async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const m = /^\/__file\/(\d+)\//.exec(req.url ?? '');
    const file = m ? files[Number(m[1])] : undefined;
    if (!file) return next();
    try {
      const { size } = await fsp.stat(file);
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const headers = { ...ISOLATION, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' };
      if (!range) {
        res.writeHead(200, { ...headers, 'Content-Length': size });
        return void createReadStream(file).pipe(res);
      }
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      if (start >= size || end < start) {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
        return void res.end();
      }
      res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}` });
      createReadStream(file, { start, end }).pipe(res);
    } catch (e) {
      res.writeHead(404, ISOLATION);
      res.end(String((e as Error).message));
    }
  };
}
