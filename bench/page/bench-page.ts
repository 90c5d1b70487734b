// Page side of `npm run bench`, driven through test/browser/harness.ts: our engine (in a module
// worker) or wllama (llama.cpp in WASM, its own workers) on a GGUF, one engine per fresh browser
// (bench/measure.ts interleaves their runs); plus the memory-bandwidth probe.
import { Wllama } from '@wllama/wllama';
import { measureBandwidth } from './memory-bandwidth.ts';
import type { OursRequest, OursRun } from './ours-worker.ts';

export interface EngineRun { prefillMs: number; decodeMs: number; prefillTokens: number; decodeTokens: number; peakMemoryBytes?: number }
export interface LoadInfo { loadMs: number; threads: number }

// the dev server serves the repo root, node_modules included
const WLLAMA_WASM = '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm';

let ours: Worker | null = null;
let wllama: Wllama | null = null;

function call<T>(w: Worker, req: OursRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ result?: T; error?: string }>) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data.result as T));
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(req);
  });
}

export async function loadOurs(url: string, threads: number, nCtx: number): Promise<LoadInfo> {
  ours = new Worker(new URL('./ours-worker.ts', import.meta.url), { type: 'module' });
  return call<LoadInfo>(ours, { op: 'load', url, threads, nCtx });
}

export async function runOurs(prompt: number[], genTokens: number): Promise<EngineRun> {
  const r = await call<OursRun>(ours!, { op: 'run', prompt, genTokens });
  return { ...r, prefillTokens: prompt.length, decodeTokens: genTokens };
}

export async function loadWllama(url: string, threads: number, nCtx: number): Promise<LoadInfo> {
  const t0 = performance.now();
  const blob = await (await fetch(url)).blob();
  wllama = new Wllama({ default: new URL(WLLAMA_WASM, location.href).href }, { suppressNativeLog: true, logger: { ...console, debug: () => {}, log: () => {} } });
  await wllama.loadModel([blob], { n_threads: threads, n_ctx: nCtx, n_gpu_layers: 0, n_parallel: 1, n_batch: 512, n_ubatch: 512 });
  return { loadMs: performance.now() - t0, threads: wllama.getNumThreads() };
}

/**
 * llama-server timings: prompt_ms covers the prompt batch; predicted_ms runs from the first sampled
 * token to the last, i.e. predicted_n − 1 forward passes. Asking for genTokens + 1 tokens gives the
 * same genTokens decode passes we time for our engine.
 */
export async function runWllama(prompt: string, nPromptTokens: number, genTokens: number, bannedIds: number[]): Promise<EngineRun> {
  // Random weights pick byte tokens whose text is not UTF-8, which llama-server cannot put into its
  // JSON reply; banning them leaves the work per token unchanged.
  const logit_bias = bannedIds.map((id) => [id, false]);
  const complete = (text: string, maxTokens: number) => wllama!.createCompletion({
    prompt: text, max_tokens: maxTokens, temperature: 0, ignore_eos: true, cache_prompt: false, stream: false, logit_bias,
  } as unknown as Parameters<Wllama['createCompletion']>[0] & { stream?: false; cache_prompt: boolean });
  await complete(prompt.slice(0, 24), 3); // warm-up, as for ours (llama-bench does the same)
  const res = await complete(prompt, genTokens + 1);
  const t = res.timings;
  if (!t) throw new Error('wllama returned no timings');
  if (t.prompt_n !== nPromptTokens) throw new Error(`wllama evaluated ${t.prompt_n} prompt tokens, expected ${nPromptTokens}`);
  return { prefillMs: t.prompt_ms, decodeMs: t.predicted_ms, prefillTokens: t.prompt_n, decodeTokens: t.predicted_n - 1 };
}

export async function bandwidth(threads: number, mib: number): Promise<number> {
  return measureBandwidth(threads, mib);
}

export function environment(): { userAgent: string; isolated: boolean; cores: number } {
  return { userAgent: navigator.userAgent, isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency };
}
