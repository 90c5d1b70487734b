// Page side of webgpu-model.test.ts: the real engine (loadModel, Session) on the WebGPU backend,
// reading GGUF files over HTTP range requests.
import { createWebGPUBackend, type WebGPUBackendOptions } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModel } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { urlSource } from '../../../src/formats/url-source.ts';

export async function perplexity(url: string, text: string, opts: WebGPUBackendOptions = {}): Promise<{ ppl: number; nTokens: number; chunks: number }> {
  const backend = await createWebGPUBackend(opts);
  const m = await loadModel(await urlSource(url), backend);
  try {
    const t = m.tokenizer;
    const ids = [...(t.bosId !== null ? [t.bosId] : []), ...t.encode(text)];
    const r = await new Session(m).perplexity(ids);
    const w = m.decoder.w.tokEmbd as unknown as { chunks: unknown[] };
    return { ...r, chunks: w.chunks.length };
  } finally {
    await m.dispose();
  }
}

/** Greedy generation from BOS with the engine's sampler (temperature 0). */
export async function greedy(url: string, maxTokens: number): Promise<{ text: string; ids: number[]; dispatches: number; submits: number }> {
  const backend = await createWebGPUBackend();
  const m = await loadModel(await urlSource(url), backend);
  try {
    const s = new Session(m);
    let done: { text: string; ids: number[] } | null = null;
    for await (const ev of s.generate(s.promptIds(''), { maxTokens, sampling: { temperature: 0 } })) {
      if (ev.type === 'done') done = ev;
    }
    const st = backend.stats();
    return { text: done!.text, ids: done!.ids, dispatches: st.dispatches, submits: st.submits };
  } finally {
    await m.dispose();
  }
}
