// The worker's engine service in Node: a failed load leaves the previous model loaded and answering
// (also when memory forces it out and back in), and 'auto' on WASM says why the GPU was not used.
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../../src/backends/backend.ts';
import type { ByteSource } from '../../src/formats/byte-source.ts';
import { loadModel } from '../../src/engine/load.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { EngineError } from '../../src/shared/errors.ts';
import type { ChatCompletionChunk, LoadOptions, ModelRef } from '../../src/worker/api.ts';
import { backendOrder } from '../../src/worker/backend-select.ts';
import { EngineService } from '../../src/worker/engine-service.ts';
import { defaultDeps, type LoaderDeps } from '../../src/worker/model-loader.ts';
import { fixture } from '../fixtures.ts';
import { hostModels, type ModelHost } from './model-host.ts';

const stories = readFileSync(fixture('models', 'stories260K.gguf'));
let host: ModelHost;
const files: Record<string, Uint8Array> = {};

async function fakeArch(): Promise<Uint8Array> {
  const f = await openGGUF(bytesSource(stories, 'stories.gguf'));
  const meta = [...f.metadata].map(([key, value]) => ({ key, value: key === 'general.architecture' ? 'notarealarch' : value, type: f.metadataTypes.get(key)! }));
  return writeGGUF(meta, await Promise.all(f.tensors.map(async (t) => ({ ...t, data: await f.readTensor(t) }))));
}

beforeAll(async () => {
  Object.assign(files, { 'stories.gguf': stories, 'fake.gguf': await fakeArch(), 'truncated.gguf': stories.subarray(0, 600_000) });
  host = await hostModels(files);
});
afterAll(() => host.close());
afterEach(() => { vi.unstubAllGlobals(); });

const ref = (name: string): ModelRef => host.ref(name);
const WASM: LoadOptions = { backend: 'wasm', threads: 1 };

async function answer(svc: EngineService): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  await svc.completion(`r${Math.random()}`, {
    messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 6, temperature: 0,
  }, (c) => chunks.push(c));
  expect(chunks.at(-1)?.choices[0].finish_reason).toBe('length');
  return chunks;
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the load to fail'); }, (e: unknown) => e as EngineError & { previous?: string });

describe('a failed load keeps the previous model', () => {
  it('unsupported and corrupt models: the error says so and the previous model still answers', async () => {
    const svc = new EngineService();
    await svc.loadModel(ref('stories.gguf'), WASM);
    expect(await failure(svc.loadModel(ref('fake.gguf'), WASM))).toMatchObject({ code: 'UNSUPPORTED_ARCH', previous: 'kept' });
    expect(await failure(svc.loadModel(ref('truncated.gguf'), WASM))).toMatchObject({ code: 'GGUF_TRUNCATED', previous: 'kept' });
    expect(await failure(svc.loadModel(ref('missing.gguf'), WASM))).toMatchObject({ code: 'IO', previous: 'kept' });
    expect((await svc.loadedModel())?.name).toBe('stories.gguf');
    expect((await answer(svc)).at(-1)?.model).toBe('stories.gguf');
    await svc.unloadModel();
    // with nothing loaded before, there is nothing to report on
    expect((await failure(svc.loadModel(ref('fake.gguf'), WASM))).previous).toBeUndefined();
  });

  // A loader that cannot hold a second model: 'big' fits alone, 'huge' never does.
  function tightMemory(): LoaderDeps & { live: () => number } {
    let live = 0;
    return {
      ...defaultDeps,
      live: () => live,
      async loadModel(src, backend, o) {
        const name = (Array.isArray(src) ? src[0] : src as ByteSource).name;
        if (name === 'huge' || (name === 'big' && live > 0)) throw new EngineError('OUT_OF_MEMORY', `no memory for ${name}`);
        const m = await loadModel(src as ByteSource | ByteSource[], backend, o);
        live++;
        const dispose = m.dispose;
        m.dispose = async () => { live--; await dispose(); };
        return m;
      },
    };
  }

  it('out of memory next to the previous model: it makes room, and comes back when the new one fails anyway', async () => {
    files.big = stories;
    files.huge = stories;
    const deps = tightMemory();
    const svc = new EngineService(deps);
    await svc.loadModel(ref('stories.gguf'), WASM);
    const huge = await failure(svc.loadModel(ref('huge'), WASM));
    expect(huge).toMatchObject({ code: 'OUT_OF_MEMORY', previous: 'reloaded' });
    expect((await svc.loadedModel())?.name).toBe('stories.gguf');
    expect(deps.live()).toBe(1);
    await answer(svc);

    expect((await svc.loadModel(ref('big'), WASM)).name).toBe('big');
    expect(deps.live()).toBe(1);
    expect((await answer(svc)).at(-1)?.model).toBe('big');
  });
});

describe("'auto' says why the GPU was not used", () => {
  const hardware = { requestAdapter: async () => ({ info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'H200' } }) };
  const withWebGPU = (webgpu: () => Promise<Backend>): LoaderDeps => ({
    ...defaultDeps,
    createBackend: (name, opts) => (name === 'webgpu' ? webgpu() : defaultDeps.createBackend(name, { ...opts, threads: 1 })),
  });

  it('no WebGPU, no adapter, a software adapter', async () => {
    vi.stubGlobal('navigator', {});
    expect(await backendOrder({})).toEqual({ order: ['wasm'], fallback: { kind: 'no-webgpu' } });
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    expect(await backendOrder({ backend: 'auto' })).toEqual({ order: ['wasm'], fallback: { kind: 'no-adapter' } });
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device' } }) } });
    expect(await backendOrder({})).toEqual({ order: ['wasm'], fallback: { kind: 'software-adapter', adapter: 'google swiftshader SwiftShader Device' } });
    vi.stubGlobal('navigator', { gpu: hardware });
    expect(await backendOrder({})).toEqual({ order: ['webgpu', 'wasm'] });
    expect(await backendOrder({ backend: 'wasm' })).toEqual({ order: ['wasm'] });

    // the reason travels with the loaded model and with every answer's stats
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    const svc = new EngineService();
    const info = await svc.loadModel(ref('stories.gguf'), { threads: 1 });
    expect(info).toMatchObject({ backend: 'wasm', gpuFallback: { kind: 'no-adapter' } });
    expect((await answer(svc)).at(-1)?.stats?.gpuFallback).toEqual({ kind: 'no-adapter' });
    // asked for WASM: nothing fell back
    expect((await svc.loadModel(ref('stories.gguf'), WASM)).gpuFallback).toBeUndefined();
  });

  it('a device the adapter refuses, and a model that fails on the GPU while loading', async () => {
    vi.stubGlobal('navigator', { gpu: hardware });
    const refused = new EngineService(withWebGPU(async () => { throw new EngineError('BACKEND', 'The GPU adapter refused to create a device: limit'); }));
    expect(await refused.loadModel(ref('stories.gguf'), {})).toMatchObject({
      backend: 'wasm', gpuFallback: { kind: 'device-failed', message: expect.stringContaining('refused to create a device') },
    });
    const gpu = { name: 'webgpu', threads: 1, dispose: vi.fn(), uploadWeight: () => { throw new EngineError('BACKEND', 'WebGPU error: out of GPU memory'); } };
    const failing = new EngineService(withWebGPU(async () => gpu as unknown as Backend));
    const info = await failing.loadModel(ref('stories.gguf'), {});
    expect(info).toMatchObject({ backend: 'wasm', gpuFallback: { kind: 'load-failed', code: 'BACKEND', message: 'WebGPU error: out of GPU memory' } });
    expect(gpu.dispose).toHaveBeenCalled();
    await answer(failing);
  });
});
