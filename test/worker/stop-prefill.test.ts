// Stop, unload and switching model while the worker processes a long prompt: each takes effect
// within one batch (the WASM kernels compute synchronously, so the decoder yields to the event
// loop between batches, where the worker's abort message gets through).
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.ts';
import type { ChatCompletionChunk, ModelRef } from '../../src/worker/api.ts';
import { EngineService } from '../../src/worker/engine-service.ts';
import { defaultDeps, type LoaderDeps } from '../../src/worker/model-loader.ts';
import { fixture } from '../fixtures.ts';

const files: Record<string, Uint8Array> = {
  'llama32.gguf': readFileSync(fixture('arch', 'dev-llama32.Q8_0.gguf')),
  'stories.gguf': readFileSync(fixture('models', 'stories260K.gguf')),
};
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const body = files[(req.url ?? '').slice(1)];
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ref = (name: string): ModelRef => ({ kind: 'bundled', url: `${base}/${name}`, name });

/** A service whose backends count batches (one embed per batch) and call `onBatch` on each. */
function counting(onBatch: (n: number) => void): { svc: EngineService; batches: () => number } {
  let n = 0;
  const deps: LoaderDeps = {
    ...defaultDeps,
    createBackend: async (name, opts) => {
      const b: Backend = await defaultDeps.createBackend(name, opts);
      const embed = b.embed.bind(b);
      b.embed = (...args) => { n++; onBatch(n); embed(...args); };
      return b;
    },
  };
  return { svc: new EngineService(deps), batches: () => n };
}

const LONG = 'Once upon a time '.repeat(480);

describe('during a 2,000-token prompt', () => {
  let act: (svc: EngineService, id: string) => void = () => {};
  let armed = false;
  // the first batch of the prompt sends the action, as a click would arrive mid-computation
  const { svc, batches } = counting(() => { if (armed) { armed = false; setTimeout(() => act(svc, 'r1'), 0); } });

  async function run(): Promise<{ chunks: ChatCompletionChunk[]; before: number }> {
    await svc.loadModel(ref('llama32.gguf'), { backend: 'wasm', threads: 2 });
    const before = batches();
    armed = true;
    const chunks: ChatCompletionChunk[] = [];
    const done = svc.completion('r1', { messages: [{ role: 'user', content: LONG }], stream: true, max_tokens: 4 }, (c) => chunks.push(c));
    await done;
    return { chunks, before };
  }

  it('Stop ends the answer within one batch', async () => {
    act = (s, id) => void s.abort(id);
    const { chunks, before } = await run();
    const last = chunks.at(-1)!;
    expect(last.choices[0].finish_reason).toBe('abort');
    expect(last.usage!.prompt_tokens).toBeGreaterThan(1900);
    expect(last.stats!.prefilledTokens).toBe(64);
    expect(batches() - before).toBe(1);
  });

  it('unloading stops it within one batch', async () => {
    let unloaded: Promise<void> | undefined;
    act = (s) => { unloaded = s.unloadModel(); };
    const { before } = await run();
    await unloaded;
    expect(batches() - before).toBe(1);
    expect(await svc.loadedModel()).toBeNull();
  });

  it('switching model stops it within one batch', async () => {
    let switched: Promise<unknown> | undefined;
    act = (s) => { act = () => {}; switched = s.loadModel(ref('stories.gguf'), { backend: 'wasm', threads: 1 }); };
    const { chunks, before } = await run();
    const info = await switched;
    // one batch of the long prompt, then the new model loads (its own embeds come after)
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('abort');
    expect(info).toMatchObject({ name: 'stories.gguf' });
    expect(batches() - before).toBeLessThanOrEqual(1);
  });
});
