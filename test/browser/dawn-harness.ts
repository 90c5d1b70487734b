// The browser harness's contract (BrowserHarness) in this Node process instead of a page: `run`
// imports the same page module and calls it with navigator.gpu = Dawn (src/cli/node-gpu.ts), so
// one set of WebGPU checks runs in both hosts. Files are served over HTTP range requests as there.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileRoute, registerFile } from '../../src/cli/file-route.ts';
import { nodeGPU } from '../../src/cli/node-gpu.ts';
import type { BrowserHarness } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = process.env.FIXTURES_DIR ?? path.resolve(ROOT, '../shared/fixtures');

export async function openDawn(): Promise<BrowserHarness> {
  const gpu = await nodeGPU();
  // what the page modules read; Node 20 has no navigator of its own (later ones have no gpu)
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const files: string[] = [];
  const route = fileRoute(files);
  const server = createServer((req, res) => void route(req, res, () => { res.writeHead(404); res.end(); }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fileUrl = (absPath: string) => registerFile(files, origin, absPath);
  return {
    fileUrl,
    fixtureUrl: (...parts) => fileUrl(path.join(FIXTURES, ...parts)),
    async run<T>(modulePath: string, fn: string, ...args: unknown[]): Promise<T> {
      const mod = await import(/* @vite-ignore */ path.join(ROOT, modulePath)) as Record<string, (...a: unknown[]) => unknown>;
      if (typeof mod[fn] !== 'function') throw new Error(`${modulePath} exports no function ${fn}`);
      // through JSON, as results come back from the page
      return JSON.parse(JSON.stringify((await mod[fn](...args)) ?? null)) as T;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
