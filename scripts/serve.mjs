// Serves the built app (dist/) the way the engine needs it: cross-origin isolation headers
// (COOP/COEP, so WASM threads get SharedArrayBuffer), correct MIME types (application/wasm for
// streaming compilation), HTTP Range requests, index.html for unknown paths, and the
// Content-Security-Policy (scripts/csp.mjs) on every response, with violations reported to
// POST /__csp-report (logged; the e2e suite fails on any).
//   node scripts/serve.mjs            → http://localhost:5173 (PORT=8080 to change; HOST=0.0.0.0 serves the LAN)
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cspHeader } from './csp.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.gguf': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json',
};

export const CSP_REPORT_PATH = '/__csp-report';

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': cspHeader({ reportUri: CSP_REPORT_PATH }),
  'Referrer-Policy': 'no-referrer',
};

const MAX_REPORT_BYTES = 64 * 1024;

/** A violation report (application/csp-report or reports+json) → its reports; junk is dropped. */
function readReports(req, onViolation, res) {
  let size = 0;
  const chunks = [];
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_REPORT_BYTES) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    res.writeHead(204, ISOLATION).end();
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return;
    }
    for (const r of Array.isArray(body) ? body.map((x) => x?.body) : [body?.['csp-report']]) {
      if (r && typeof r === 'object') onViolation(r);
    }
  });
}

function logViolation(r) {
  const what = r['violated-directive'] ?? r.effectiveDirective ?? r['effective-directive'] ?? '?';
  const blocked = r['blocked-uri'] ?? r.blockedURL ?? '?';
  console.error(`CSP violation: ${what} blocked ${blocked} (${r['document-uri'] ?? r.documentURL ?? '?'})`);
}

/** Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range; null = unsatisfiable, undefined = none. */
export function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start, end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : null;
}

async function resolveFile(root, urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return undefined;
  }
  const file = path.join(root, path.normalize(rel).replace(/^([/\\]|\.\.)+/, ''));
  if (!file.startsWith(root)) return undefined;
  const s = await stat(file).catch(() => undefined);
  if (s?.isFile()) return { file, size: s.size };
  if (s?.isDirectory()) return resolveFile(root, path.posix.join(rel, 'index.html'));
  return undefined;
}

function cacheControl(file) {
  // Hashed assets never change; the shell and the service worker must always be revalidated.
  return file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

async function handle(root, req, res, onViolation) {
  const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'POST' && urlPath === CSP_REPORT_PATH) {
    readReports(req, onViolation, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', ...ISOLATION }).end();
    return;
  }
  let found = await resolveFile(root, urlPath);
  // Client-side routes get the app shell; missing assets stay 404.
  if (!found && !path.extname(urlPath)) found = await resolveFile(root, '/index.html');
  if (!found) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...ISOLATION }).end('Not found\n');
    return;
  }
  const headers = {
    'Content-Type': MIME[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': cacheControl(found.file),
    ...ISOLATION,
  };
  const range = parseRange(req.headers.range, found.size);
  if (range === null) {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${found.size}` }).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: found.size - 1 };
  const length = Math.max(0, end - start + 1);
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${found.size}`;
  res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': String(length) });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  createReadStream(found.file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/** Starts the server; resolves with its URL once it listens. */
export function serve({ root = path.resolve(fileURLToPath(new URL('../dist', import.meta.url))), port = 5173, host = 'localhost', onCspViolation = logViolation } = {}) {
  const server = http.createServer((req, res) => {
    handle(root, req, res, onCspViolation).catch(() => {
      if (!res.headersSent) res.writeHead(500, ISOLATION);
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ server, url: `http://localhost:${typeof addr === 'object' && addr ? addr.port : port}/` });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 5173);
  // localhost unless asked: a LAN page over plain HTTP is no secure context (no WebGPU, threads or
  // offline shell there), but the Remote server engine works from it (docs/cluster.md)
  const host = process.env.HOST ?? 'localhost';
  const root = path.resolve(fileURLToPath(new URL('../dist', import.meta.url)));
  const ok = await stat(path.join(root, 'index.html')).catch(() => undefined);
  if (!ok) {
    console.error(`No build found in ${root}: run "npm run build" first (or "npm start", which builds and serves).`);
    process.exit(1);
  }
  const { url } = await serve({ root, port, host }).catch((e) => {
    console.error(e.code === 'EADDRINUSE' ? `Port ${port} is in use; set PORT to another one.` : e.message);
    process.exit(1);
  });
  console.log(`Edge LLM is running at ${url}${host === 'localhost' ? '' : ` (listening on ${host})`}`);
}
