// A real local HTTP server for download tests, with per-path misbehaviours.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  data: Uint8Array;
  /** First request only: send this many body bytes, then destroy the socket. */
  dropAfter?: number;
  /** With dropAfter: drop every request, not only the first. */
  dropAlways?: boolean;
  /** First request only: send this many body bytes, then keep the connection open; calls onStall. */
  stallAfter?: number;
  onStall?: () => void;
  /** Always answer 200 with the whole file, whatever Range says. */
  ignoreRange?: boolean;
  status?: number;
  /** Status for every request after the first. */
  laterStatus?: number;
  /** Answer Range requests with a 206 whose Content-Range starts at 0 (a broken server). */
  wrongRange?: boolean;
  /** Range headers of every body request received (undefined when absent). */
  ranges: (string | undefined)[];
  /** Closed ranges (`bytes=a-b`): the header reads before a download. The misbehaviours above
   *  (drop, stall, laterStatus, wrongRange) are about the body and do not apply to them. */
  headRanges: string[];
}

export interface TestServer {
  base: string;
  route(path: string, r: Omit<Route, 'ranges' | 'headRanges'>): Route;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const server: Server = createServer((req, res) => handle(routes, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    route(path, r) {
      const full: Route = { ...r, ranges: [], headRanges: [] };
      routes.set(path, full);
      return full;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function handle(routes: Map<string, Route>, req: IncomingMessage, res: ServerResponse): void {
  const r = routes.get(req.url ?? '');
  if (!r) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  const closed = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (closed) {
    r.headRanges.push(req.headers.range!);
    const size = r.data.length;
    const [start, end] = [Number(closed[1]), Math.min(Number(closed[2]), size - 1)];
    if (r.status) res.writeHead(r.status).end('error page');
    else if (r.ignoreRange) res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'none' }).end(r.data);
    else if (start >= size) res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    else res.writeHead(206, { 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}` }).end(r.data.subarray(start, end + 1));
    return;
  }
  r.ranges.push(req.headers.range);
  const first = r.ranges.length === 1;
  const status = first ? r.status : r.laterStatus ?? r.status;
  if (status) {
    res.writeHead(status).end('error page');
    return;
  }
  const size = r.data.length;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (m && r.wrongRange) {
    res.writeHead(206, { 'Content-Length': size, 'Content-Range': `bytes 0-${size - 1}/${size}` });
  } else if (m && !r.ignoreRange) {
    start = Number(m[1]);
    res.writeHead(206, { 'Content-Length': size - start, 'Content-Range': `bytes ${start}-${size - 1}/${size}` });
  } else {
    res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': r.ignoreRange ? 'none' : 'bytes' });
  }
  const body = r.data.subarray(start);
  if ((first || r.dropAlways) && r.dropAfter !== undefined && r.dropAfter < body.length) {
    res.write(body.subarray(0, r.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
  } else if (first && r.stallAfter !== undefined) {
    res.write(body.subarray(0, r.stallAfter), () => r.onStall?.());
  } else {
    res.end(body);
  }
}
