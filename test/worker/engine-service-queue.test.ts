// The worker's engine service under concurrent use, with the real WASM backend on stories260K:
// answers queue one after another, abort stops one cleanly, a model switch or unload mid-answer
// ends it without a hang, a GPU lost mid-answer hands over to WASM, and every answer equals
// llama.cpp's greedy text.
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../../src/backends/backend.ts';
import { EngineError } from '../../src/shared/errors.ts';
import type { ChatCompletionChunk, LoadOptions, ModelRef } from '../../src/worker/api.ts';
import { EngineService } from '../../src/worker/engine-service.ts';
import { defaultDeps } from '../../src/worker/model-loader.ts';
import { fixture } from '../fixtures.ts';
import { hostModels, type ModelHost } from './model-host.ts';

const stories = readFileSync(fixture('models', 'stories260K.gguf'));
// llama.cpp's greedy continuation of [BOS] + "Once upon a time", 48 tokens (quant/README.md)
const reference: string = JSON.parse(readFileSync(fixture('quant', 'llamacpp-refs.json'), 'utf8'))['stories260K.gguf'].greedy;
let host: ModelHost;

beforeAll(async () => { host = await hostModels({ 'a.gguf': stories, 'b.gguf': stories }); });
afterAll(() => host.close());
afterEach(() => { vi.unstubAllGlobals(); });

const ref = (name: string): ModelRef => host.ref(name);
const WASM: LoadOptions = { backend: 'wasm', threads: 1 };

interface Answer { text: string; finish: string | null | undefined; model?: string; events: string[] }

/** Starts one greedy answer; `log` records when it starts and ends, to see the order of two. */
function ask(svc: EngineService, id: string, log: string[], onFirst?: () => void): Promise<Answer> {
  const chunks: ChatCompletionChunk[] = [];
  return svc.completion(id, {
    messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 48, temperature: 0,
  }, (c) => {
    if (chunks.length === 0) { log.push(`${id} start`); onFirst?.(); }
    chunks.push(c);
  }).then(() => {
    log.push(`${id} end`);
    return {
      text: chunks.map((c) => c.choices[0].delta.content ?? '').join(''), finish: chunks.at(-1)?.choices[0].finish_reason,
      model: chunks.at(-1)?.model, events: log,
    };
  });
}

describe('the engine service under concurrent requests', () => {
  it('two chats sent at once run one after the other, both equal to llama.cpp', async () => {
    const svc = new EngineService();
    await svc.loadModel(ref('a.gguf'), WASM);
    const log: string[] = [];
    const [a, b] = await Promise.all([ask(svc, 'a', log), ask(svc, 'b', log)]);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(a).toMatchObject({ text: reference, finish: 'length' });
    expect(b).toMatchObject({ text: reference, finish: 'length' });
    await svc.unloadModel();
  });

  it('abort mid-answer: a partial answer marked aborted, and the next one equals llama.cpp', async () => {
    const svc = new EngineService();
    await svc.loadModel(ref('a.gguf'), WASM);
    const log: string[] = [];
    const cut = await ask(svc, 'cut', log, () => void svc.abort('cut'));
    expect(cut.finish).toBe('abort');
    expect(cut.text.length).toBeLessThan(reference.length);
    expect(reference.startsWith(cut.text)).toBe(true);
    expect((await ask(svc, 'next', log)).text).toBe(reference);
    await svc.unloadModel();
  });

  it('loading another model mid-answer stops it cleanly; the next answer runs on the new model', async () => {
    const svc = new EngineService();
    await svc.loadModel(ref('a.gguf'), WASM);
    const log: string[] = [];
    let switching: Promise<unknown> = Promise.resolve();
    const cut = await ask(svc, 'cut', log, () => { switching = svc.loadModel(ref('b.gguf'), WASM); });
    expect(cut.finish).toBe('abort');
    expect(reference.startsWith(cut.text)).toBe(true);
    await switching;
    expect((await svc.loadedModel())?.name).toBe('b.gguf');
    expect(await ask(svc, 'next', log)).toMatchObject({ text: reference, model: 'b.gguf', finish: 'length' });
    await svc.unloadModel();
  });

  it('unload mid-answer stops it cleanly; then a chat fails with a typed error until a model is loaded', async () => {
    const svc = new EngineService();
    await svc.loadModel(ref('a.gguf'), WASM);
    const log: string[] = [];
    let unloading: Promise<unknown> = Promise.resolve();
    const cut = await ask(svc, 'cut', log, () => { unloading = svc.unloadModel(); });
    expect(cut.finish).toBe('abort');
    await unloading;
    expect(await svc.loadedModel()).toBeNull();
    await expect(ask(svc, 'none', log)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('No model is loaded') });
    await svc.loadModel(ref('a.gguf'), WASM);
    expect((await ask(svc, 'again', log)).text).toBe(reference);
    await svc.unloadModel();
  });
});

describe('recovery after a backend failure mid-answer', () => {
  /** A WASM backend posing as the GPU whose n-th matmul fails as a lost device does. */
  function dyingGpu(b: Backend, n: number): Backend {
    let calls = 0;
    return new Proxy(b, {
      get(target, prop, recv) {
        if (prop === 'name') return 'webgpu';
        const v = Reflect.get(target, prop, recv);
        if (prop !== 'matmul') return typeof v === 'function' ? v.bind(target) : v;
        return (...args: Parameters<Backend['matmul']>) => {
          if (++calls === n) throw new EngineError('BACKEND', 'GPU device lost');
          return target.matmul(...args);
        };
      },
    });
  }

  it('the answer finishes on WASM, equal to llama.cpp, says so, and the next one runs there too', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({ info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'H200' } }) } });
    const svc = new EngineService({
      ...defaultDeps,
      createBackend: async (name, opts) => (name === 'webgpu'
        ? dyingGpu(await defaultDeps.createBackend('wasm', { ...opts, threads: 1 }), 5 * 7 * 20)
        : defaultDeps.createBackend(name, { ...opts, threads: 1 })),
    });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await svc.loadModel(ref('a.gguf'), {})).toMatchObject({ backend: 'webgpu' });
    const chunks: ChatCompletionChunk[] = [];
    await svc.completion('gpu', { messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 48, temperature: 0 }, (c) => chunks.push(c));
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(reference);
    expect(chunks.at(-1)?.stats).toMatchObject({ backend: 'wasm', gpuFallback: { kind: 'gpu-lost', message: 'GPU device lost' } });
    expect(await svc.loadedModel()).toMatchObject({ backend: 'wasm' });
    expect((await ask(svc, 'next', [])).text).toBe(reference);
    await svc.unloadModel();
  });
});
