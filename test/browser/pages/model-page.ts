// Page side of webgpu-model.test.ts: the real engine (loadModel, Session) on the WebGPU backend,
// reading GGUF files over HTTP range requests.
import { createWebGPUBackend, type WebGPUBackendOptions } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModel } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { urlSource } from '../../../src/formats/url-source.ts';

export async function perplexity(url: string, text: string, opts: WebGPUBackendOptions = {}): Promise<{ ppl: number; nTokens: number; chunks: number; subgroups: boolean }> {
  const backend = await createWebGPUBackend(opts);
  const m = await loadModel(await urlSource(url), backend);
  try {
    const t = m.tokenizer;
    const ids = [...(t.bosId !== null ? [t.bosId] : []), ...t.encode(text)];
    const r = await new Session(m).perplexity(ids);
    const w = m.decoder.w.tokEmbd as unknown as { chunks: unknown[] };
    return { ...r, chunks: w.chunks.length, subgroups: backend.subgroups };
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

/**
 * Sampled generation (seeded, top-k 40) on WebGPU or WASM from the same prompt; on WebGPU the
 * sampler reads only the device's top-k candidates back, so readBackBytes stays tiny.
 */
export async function sampled(url: string, backendName: 'webgpu' | 'wasm', maxTokens: number, kvType: 'f32' | 'f16' = 'f16'):
  Promise<{ ids: number[]; readBackBytesPerToken: number }> {
  const { createWasmBackend } = await import('../../../src/backends/wasm/wasm-backend.ts');
  const backend = backendName === 'webgpu' ? await createWebGPUBackend() : await createWasmBackend({ threads: 1 });
  const m = await loadModel(await urlSource(url), backend, { kvType });
  try {
    const s = new Session(m);
    let ids: number[] = [];
    const sampling = { temperature: 0.9, topK: 40, topP: 0.95, minP: 0.02, seed: 7 };
    for await (const ev of s.generate(s.promptIds('Once upon a time'), { maxTokens, sampling })) {
      if (ev.type === 'done') ids = ev.ids;
    }
    const st = (backend as { stats?: () => { readBackBytes: number } }).stats?.();
    return { ids, readBackBytesPerToken: st ? st.readBackBytes / ids.length : NaN };
  } finally {
    await m.dispose();
  }
}

/**
 * Context shift on WebGPU (context-shift-webgpu.test.ts): fills nCtx positions, shifts once, and
 * returns for each following token the probability of its successor and those of `probe` ids.
 */
export async function acrossShift(url: string, ids: number[], nCtx: number, keep: number, kvType: 'f32' | 'f16' | 'q8_0',
  turn: 'exact' | 'none', probe: number[][]): Promise<{ pNext: number[]; probe: number[][] }> {
  const { distributionsAcrossShift } = await import('../../engine/shift-procedure.ts');
  const m = await loadModel(await urlSource(url), await createWebGPUBackend(), { nCtx, kvType });
  try {
    const ps = await distributionsAcrossShift(m, ids.slice(0, -1), nCtx, keep, turn);
    return { pNext: ps.map((p, i) => p[ids[nCtx + i + 1]]), probe: ps.map((p, i) => probe[i].map((id) => p[id])) };
  } finally {
    await m.dispose();
  }
}
