// The page's engine client when its worker stops answering (here: the heartbeat path, as where Web
// Locks are missing; Node has none). Workers are MessageChannels with a Comlink-exposed stand-in for
// the engine service, so a "death" is its port closing: the calls it held never settle by themselves.
// The real worker and the Web Lock path run in e2e/worker-crash.e2e.ts.
import * as Comlink from 'comlink';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent, LoadedModelInfo, LoadOptions, ModelRef } from '../../src/worker/api.ts';
import { createEngineClient } from '../../src/worker/client.ts';
import { RestartPolicy } from '../../src/worker/restart-policy.ts';

interface Fake {
  loads: [ModelRef, LoadOptions][];
  terminated: boolean;
  die(): void;
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});
const open: MessagePort[] = [];
afterEach(() => { for (const p of open.splice(0)) p.close(); });

/** Workers whose loads succeed unless `dieOnLoad()` says, and whose downloads and lists never end. */
function spawner(dieOnLoad: () => boolean = () => false) {
  const workers: Fake[] = [];
  const spawn = (): Worker => {
    const { port1, port2 } = new MessageChannel();
    open.push(port1, port2);
    const fake: Fake = { loads: [], terminated: false, die: () => port2.close() };
    Comlink.expose({
      ping: async () => {},
      holdAliveLock: () => never(),
      loadModel: async (ref: ModelRef, opts: LoadOptions): Promise<LoadedModelInfo> => {
        fake.loads.push([ref, opts]);
        if (dieOnLoad()) { fake.die(); return never(); }
        return { ref, name: 'stories', backend: opts.backend ?? 'wasm' } as LoadedModelInfo;
      },
      download: () => never(),
      listModels: () => never(),
    }, port2 as unknown as Comlink.Endpoint);
    workers.push(fake);
    return Object.assign(port1, { terminate: () => { fake.terminated = true; } }) as unknown as Worker;
  };
  return { workers, spawn };
}

function until(events: EngineEvent[], kind: EngineEvent['kind']): Promise<void> {
  return expect.poll(() => events.some((e) => e.kind === kind), { timeout: 5_000, interval: 10 }).toBe(true);
}

const fast = { pingEveryMs: 10, hangAfterMs: 60 };
const ref: ModelRef = { kind: 'bundled', url: 'http://x/stories260K.gguf', name: 'stories260K.gguf' };

describe('the engine client when its worker dies', () => {
  it('a call the dead worker held rejects with WORKER_LOST, and a new worker loads the same model with the same options', async () => {
    const { workers, spawn } = spawner();
    const client = createEngineClient({ spawn, ...fast });
    const events: EngineEvent[] = [];
    client.onEngineEvent((e) => events.push(e));
    const opts: LoadOptions = { backend: 'webgpu', nCtx: 256, kvType: 'q8_0' };
    await client.loadModel(ref, opts);

    const download = client.download({ id: 'big', url: 'http://x/big.gguf', name: 'big' });
    workers[0].die();
    await expect(download).rejects.toMatchObject({ code: 'WORKER_LOST', message: expect.stringContaining('stopped answering') });
    expect(workers[0].terminated).toBe(true);
    await until(events, 'ready');
    expect(workers).toHaveLength(2);
    expect(workers[1].loads).toEqual([[ref, opts]]);
    expect(events.map((e) => e.kind)).toEqual(['restarting', 'ready']);
    expect(events[1]).toMatchObject({ loaded: { ref, backend: 'webgpu' } });
  });

  it('a load that kills its worker: the worker before it had no model, so the next one starts bare', async () => {
    const { workers, spawn } = spawner(() => true);
    const client = createEngineClient({ spawn, ...fast });
    const events: EngineEvent[] = [];
    client.onEngineEvent((e) => events.push(e));
    await expect(client.loadModel(ref)).rejects.toMatchObject({ code: 'WORKER_LOST' });
    await until(events, 'ready');
    expect(workers.map((w) => w.loads.length)).toEqual([1, 0]);
    expect(events).toEqual([{ kind: 'restarting', reason: expect.any(String) }, { kind: 'ready', loaded: null }]);
  });

  it('a model that kills every worker it loads on: two reloads, one bare worker, then nothing more', async () => {
    let crashing = false;
    const { workers, spawn } = spawner(() => crashing);
    const client = createEngineClient({ spawn, ...fast, policy: new RestartPolicy({ maxRestarts: 2 }) });
    const events: EngineEvent[] = [];
    client.onEngineEvent((e) => events.push(e));
    await client.loadModel(ref);
    crashing = true;
    const held = client.listModels();
    workers[0].die();
    await expect(held).rejects.toMatchObject({ code: 'WORKER_LOST' });
    await until(events, 'gave-up');
    await until(events, 'ready');
    expect(events.map((e) => e.kind)).toEqual(['restarting', 'restarting', 'gave-up', 'ready']);
    expect(events[2]).toMatchObject({ model: ref, message: expect.stringContaining('pick another model') });
    // two reloads that died, then a worker without the model
    expect(workers.map((w) => w.loads.length)).toEqual([1, 1, 1, 0]);

    // the bare worker dies too: nothing is started any more, and every call fails at once
    const onBare = client.listModels();
    workers[3].die();
    await expect(onBare).rejects.toMatchObject({ code: 'WORKER_LOST' });
    await until(events, 'stopped');
    expect(workers).toHaveLength(4);
    await expect(client.listModels()).rejects.toMatchObject({ code: 'WORKER_LOST', message: expect.stringContaining('Reload the page') });
    await expect(client.loadModel(ref)).rejects.toMatchObject({ code: 'WORKER_LOST' });
    expect(workers).toHaveLength(4);
  });
});
