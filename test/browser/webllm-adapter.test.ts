// WebLLM through our adapter in real Chromium with the real @mlc-ai/web-llm, up to where a model
// library is needed: SwiftShader's adapter has no shader-f16, so f16 builds are offered as
// unavailable and refused before any request; a q4f32 entry whose files are missing or whose
// server is down fails fast with WEBLLM_FAILED; WebLLM's cache is listed and deleted apart from ours.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

let h: BrowserHarness;
// a model server on another origin, as docs/webllm.md sets one up: /cors/… sends
// Access-Control-Allow-Origin, /nocors/… does not; the "library" is not WebAssembly
let models: http.Server;
let modelsBase = '';
const served: string[] = [];
beforeAll(async () => {
  h = await openBrowser({ timeoutMs: 90_000, onConsole: () => undefined });
  models = http.createServer((req, res) => {
    served.push(req.url ?? '');
    const cors = req.url?.startsWith('/cors/') ? { 'Access-Control-Allow-Origin': '*' } : {};
    if (req.url?.endsWith('/mlc-chat-config.json')) {
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ tokenizer_files: ['tokenizer.json'], context_window_size: 512 }));
    }
    if (req.url?.endsWith('.wasm') && !req.url.includes('/missing/')) {
      res.writeHead(200, { ...cors, 'Content-Type': 'application/wasm' });
      return void res.end('not a model library');
    }
    res.writeHead(404, cors);
    res.end();
  });
  await new Promise<void>((resolve) => models.listen(0, '127.0.0.1', resolve));
  modelsBase = `http://127.0.0.1:${(models.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => models?.close(resolve));
});

type Load = { code?: string; message?: string; ms: number; requests: string[] };

describe('WebLLM adapter in Chromium (no shader-f16)', () => {
  it('the f16 gate: unavailable in the catalogue, refused before any request; missing files fail clearly', async () => {
    const r = await h.run<{
      support: { webgpu: boolean; f16: boolean; adapter?: string };
      crossOriginIsolated: boolean;
      custom: { id: string; custom: boolean; requiresF16: boolean; unavailable: string | null }[];
      f16Count: number; f16Unavailable: number; f32Available: number; sample: string | null;
      missingBase: string;
      loads: Record<'prebuiltF16' | 'declaredF16' | 'customF16' | 'missing' | 'down', Load>;
      progress: string[];
      loaded: unknown;
    }>('test/browser/pages/webllm-page.ts', 'gate');

    expect(r.crossOriginIsolated).toBe(true);
    expect(r.support.webgpu).toBe(true);
    expect(r.support.f16).toBe(false);

    expect(r.f16Count).toBeGreaterThan(30);
    expect(r.f16Unavailable).toBe(r.f16Count);
    expect(r.f32Available).toBeGreaterThan(10);
    expect(r.sample).toMatch(/f16 build.*no shader-f16.*q4f32/);
    expect(r.custom.map((c) => [c.id, c.custom, c.requiresF16, c.unavailable !== null])).toEqual([
      ['self-q4f16', true, true, true], ['missing-q4f32', true, false, false], ['down-q4f32', true, false, false]]);

    for (const k of ['prebuiltF16', 'declaredF16', 'customF16'] as const) {
      expect(r.loads[k].code, k).toBe('WEBLLM_UNSUPPORTED');
      expect(r.loads[k].message).toMatch(/shader-f16/);
      expect(r.loads[k].requests, k).toEqual([]);
    }

    // 404 on mlc-chat-config.json: WebLLM's Cache.add rejects; the message names the model and URL
    const miss = r.loads.missing;
    expect(miss.code).toBe('WEBLLM_FAILED');
    expect(miss.message).toContain(`Could not download missing-q4f32 from ${r.missingBase}`);
    expect(miss.message).toContain(`${r.missingBase}mlc-chat-config.json: HTTP 404`);
    expect(miss.requests.some((q) => q.includes(`${r.missingBase}mlc-chat-config.json`))).toBe(true);
    expect(miss.ms).toBeLessThan(15_000);

    const down = r.loads.down;
    expect(down.code).toBe('WEBLLM_FAILED');
    expect(down.message).toMatch(/Could not download down-q4f32 from http:\/\/127\.0\.0\.1:9\/.*no readable answer from http:\/\/127\.0\.0\.1:9: the server is down/);
    expect(down.ms).toBeLessThan(15_000);
    expect(r.loaded).toBeNull();
  }, 120_000);

  it("WebLLM's cache: listed and deleted through the package, apart from our IndexedDB store", async () => {
    type Row = { id: string | null; url: string; complete: boolean | null; files: number; bytes: number };
    const r = await h.run<{
      emptyAtFirst: Row[]; withOurs: Row[]; partial: Row[]; full: Row[]; cacheNames: string[]; dbs: string[];
      afterDelete: Row[]; keysLeft: string[]; ours: string; oursAfter: string[];
    }>('test/browser/pages/webllm-page.ts', 'caches_', h.fileUrl(fixture('models', 'stories260K.gguf')));

    expect(r.emptyAtFirst).toEqual([]);
    // our model in IndexedDB is not WebLLM's
    expect(r.withOurs).toEqual([]);
    expect(r.dbs).toContain('edge-llm-models');
    expect(r.cacheNames.every((n) => n.startsWith('webllm/'))).toBe(true);

    // tensor-cache.json names a shard not yet there: WebLLM's hasModelInCache says incomplete
    expect(r.partial).toEqual([{ id: 'Llama-3.2-1B-Instruct-q4f32_1-MLC', url: expect.stringMatching(/resolve\/main\/$/), complete: false, files: 1, bytes: expect.any(Number) }]);
    const llama = r.full.find((x) => x.id === 'Llama-3.2-1B-Instruct-q4f32_1-MLC')!;
    expect(llama).toMatchObject({ complete: true, files: 4 });
    expect(llama.bytes).toBe(r.partial[0].bytes + 1000 + 2 + 3);
    expect(r.full.find((x) => x.id === null)).toEqual({ id: null, url: 'https://gone.example/m/resolve/main/', complete: null, files: 1, bytes: 2 });

    expect(r.afterDelete).toEqual([]);
    expect(r.keysLeft).toEqual([]);
    expect(r.oursAfter).toContain(r.ours);
  }, 120_000);

  it('a model server on another origin: with CORS WebLLM gets to the library; without, a clear CORS hint', async () => {
    type Row = { id: string | null; files: number };
    const r = await h.run<{ nolib: Load; cors: Load; nocors: Load; cached: Row[]; deleting: Load; afterDelete: Row[] }>(
      'test/browser/pages/webllm-page.ts', 'crossOrigin', modelsBase);
    // the config is there, the library is not: the error names the library's URL and status
    expect(r.nolib.code).toBe('WEBLLM_FAILED');
    expect(r.nolib.message).toContain(`(${modelsBase}/cors/missing/m-q4f32_1-webgpu.wasm: HTTP 404, not there)`);
    // the config passed CORS, the library was fetched and refused as WebAssembly
    expect(served).toContain('/cors/m-q4f32_1-MLC/resolve/main/mlc-chat-config.json');
    expect(served).toContain('/cors/libs/m-q4f32_1-webgpu.wasm');
    expect(r.cors.code).toBe('WEBLLM_FAILED');
    expect(r.cors.message).toContain(`The model library ${modelsBase}/cors/libs/m-q4f32_1-webgpu.wasm is not a WebGPU model library`);
    // the server answered, but the browser withheld it: nothing past the config was asked for
    expect(served).toContain('/nocors/m-q4f32_1-MLC/resolve/main/mlc-chat-config.json');
    expect(served.some((u) => u.startsWith('/nocors/libs/'))).toBe(false);
    expect(r.nocors.code).toBe('WEBLLM_FAILED');
    expect(r.nocors.message).toMatch(/Could not download nocors-q4f32_1 .*no readable answer from http:\/\/127\.0\.0\.1:\d+: the server is down, or it sends no Access-Control-Allow-Origin/);
    expect(r.cached.find((x) => x.id === 'cors-q4f32_1')).toMatchObject({ files: 2 });
    expect(r.deleting).toEqual({ ms: expect.any(Number), requests: [] });
    expect(r.afterDelete).toEqual([]);
  }, 120_000);
});
