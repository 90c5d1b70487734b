// Runs TypeScript modules inside headless Chromium (WebGPU via SwiftShader here): a Vite dev server
// on an ephemeral localhost port (secure context + COOP/COEP) serves the repo, playwright drives
// Debian chromium, and `run` calls an exported async function in the page and returns its JSON.
// Node-only: the CLI's --browser runner and the tests under test/browser use it.
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { fileRoute, ISOLATION, registerFile } from './file-route.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = process.env.FIXTURES_DIR ?? path.resolve(ROOT, '../shared/fixtures');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
];
// A string, not a function: Vitest would rewrite import() inside a function literal for Node.
const PAGE_CALL = `async ([url, fn, args]) => {
  const mod = await import(url);
  if (typeof mod[fn] !== 'function') throw new Error(url + ' exports no function ' + fn);
  return JSON.stringify((await mod[fn](...args)) ?? null);
}`;
const PAGE = '<!doctype html><meta charset="utf-8"><title>harness</title><link rel="icon" href="data:,">';

export interface HarnessOptions {
  /** per `run` call; default 60 s; Infinity for none */
  timeoutMs?: number;
  /** text the page writes with globalThis.__harnessWrite(stream, text) */
  onWrite?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** page console output; default: errors and warnings go to stderr */
  onConsole?: (type: string, text: string) => void;
}

export interface BrowserHarness {
  /** Imports `modulePath` (repo-relative, e.g. 'test/browser/pages/ops-page.ts') in the page and awaits `fn(...args)`. */
  run<T>(modulePath: string, fn: string, ...args: unknown[]): Promise<T>;
  /** Serves a file on disk (HTTP range requests supported) and returns its same-origin URL. */
  fileUrl(absPath: string): string;
  /** URL of a file under ../shared/fixtures */
  fixtureUrl(...parts: string[]): string;
  close(): Promise<void>;
}

async function startVite(files: string[]): Promise<{ server: ViteDevServer; origin: string }> {
  const server = await createServer({
    configFile: false,
    root: ROOT,
    logLevel: 'error',
    clearScreen: false,
    appType: 'custom',
    server: {
      host: '127.0.0.1', port: 0, strictPort: false, headers: ISOLATION, hmr: false, watch: null,
      fs: { allow: [ROOT, FIXTURES] },
    },
    optimizeDeps: { noDiscovery: true, include: [] },
    plugins: [{
      name: 'harness-routes',
      configureServer(s) {
        s.middlewares.use(fileRoute(files));
        s.middlewares.use('/__harness', (_req, res) => {
          res.writeHead(200, { ...ISOLATION, 'Content-Type': 'text/html' });
          res.end(PAGE);
        });
      },
    }],
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  // WebGPU needs a secure context: http://localhost counts, 127.0.0.1 too, but keep the usual name.
  return { server, origin: `http://localhost:${port}` };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function wirePage(page: Page, opts: HarnessOptions, pageErrors: string[]): void {
  const onConsole = opts.onConsole ?? ((type, text) => {
    if (type === 'error' || type === 'warning') process.stderr.write(`[browser ${type}] ${text}\n`);
  });
  page.on('console', (m) => onConsole(m.type(), m.text()));
  page.on('pageerror', (e) => {
    pageErrors.push(e.stack ?? e.message);
    process.stderr.write(`[browser pageerror] ${e.stack ?? e.message}\n`);
  });
  page.on('crash', () => pageErrors.push('the page crashed'));
}

export async function openBrowser(opts: HarnessOptions = {}): Promise<BrowserHarness> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const files: string[] = [];
  const { server, origin } = await startVite(files);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  };
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    wirePage(page, opts, pageErrors);
    await page.exposeFunction('__harnessWrite', (stream: 'stdout' | 'stderr', text: string) => {
      if (opts.onWrite) opts.onWrite(stream, text);
      else (stream === 'stdout' ? process.stdout : process.stderr).write(text);
    });
    await page.goto(`${origin}/__harness`, { timeout: 30_000 });
    const fileUrl = (absPath: string) => registerFile(files, origin, absPath);
    return {
      fileUrl,
      fixtureUrl: (...parts) => fileUrl(path.join(FIXTURES, ...parts)),
      close,
      async run<T>(modulePath: string, fn: string, ...args: unknown[]): Promise<T> {
        const url = `/${modulePath.replace(/^\/+/, '')}`;
        const call = page.evaluate<string>(`(${PAGE_CALL})(${JSON.stringify([url, fn, args])})`);
        try {
          return JSON.parse(await withTimeout(call, timeoutMs, `${modulePath}:${fn}`)) as T;
        } catch (e) {
          const extra = pageErrors.length ? `\npage errors:\n${pageErrors.join('\n')}` : '';
          throw new Error(`${(e as Error).message}${extra}`, { cause: e });
        }
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
