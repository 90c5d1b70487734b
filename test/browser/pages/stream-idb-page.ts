// Page side of layer-stream-idb.test.ts: a model imported into the real IndexedDB shard cache (as
// the app's import does), then loaded from its shards with and without a memory cap.
import { createWasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { loadModelInput } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { ModelStore } from '../../../src/worker/model-store.ts';

async function greedy(store: ModelStore, id: string, nCtx: number, maxMemoryBytes?: number) {
  const { input } = await store.open(id);
  const backend = await createWasmBackend({ threads: 1 });
  const m = await loadModelInput(await input(), backend, { nCtx, maxMemoryBytes });
  try {
    const s = new Session(m);
    let ids: number[] = [];
    for await (const ev of s.generate(s.promptIds('Once upon a time'), { maxTokens: 24, sampling: { temperature: 0 } })) {
      if (ev.type === 'done') ids = ev.ids;
    }
    const streamedLayers = m.residency ? m.residency.resident.filter((r) => !r).length : 0;
    return { ids, memoryBytes: backend.memoryBytes(), streamedLayers };
  } finally {
    await m.dispose();
  }
}

export async function importAndStream(url: string, nCtx: number, cap: number) {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const store = new ModelStore();
  const stored = await store.importFiles([new File([bytes], 'deep-stories.gguf')]);
  try {
    return { shards: stored.files.length, resident: await greedy(store, stored.id, nCtx), streamed: await greedy(store, stored.id, nCtx, cap) };
  } finally {
    await store.delete(stored.id);
  }
}
