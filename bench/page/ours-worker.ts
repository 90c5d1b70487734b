// Our engine inside a module Web Worker, as the app runs it: load a GGUF from a URL (HTTP ranges),
// then time prefill of N given tokens and M greedy decode steps, like `cli bench`.
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel, type LoadedModel } from '../../src/engine/load.ts';
import { urlSource } from '../../src/formats/url-source.ts';

export type OursRequest =
  | { op: 'load'; url: string; threads: number; nCtx: number }
  | { op: 'run'; prompt: number[]; genTokens: number };

export interface OursRun { prefillMs: number; decodeMs: number; peakMemoryBytes: number }

let model: LoadedModel | null = null;
let backend: WasmBackend | null = null;

async function run(prompt: number[], genTokens: number): Promise<OursRun> {
  const d = model!.decoder;
  // warm-up, as cli bench: WASM is compiled lazily (baseline first, optimized once hot)
  await d.forward(Int32Array.from(prompt.slice(0, 8)), 0, false);
  for (let i = 0; i < 2; i++) await d.forward(Int32Array.of(prompt[0]), 8 + i, false);
  const t0 = performance.now();
  let logits = await d.forward(Int32Array.from(prompt), 0, false);
  const t1 = performance.now();
  for (let i = 0; i < genTokens; i++) {
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
    logits = await d.forward(Int32Array.of(best), prompt.length + i, false);
  }
  const t2 = performance.now();
  return { prefillMs: t1 - t0, decodeMs: t2 - t1, peakMemoryBytes: backend!.memoryBytes() };
}

async function handle(req: OursRequest): Promise<unknown> {
  if (req.op === 'load') {
    backend = await createWasmBackend({ threads: req.threads });
    const t0 = performance.now();
    model = await loadModel(await urlSource(req.url), backend, { nCtx: req.nCtx });
    return { loadMs: performance.now() - t0, threads: backend.threads };
  }
  return run(req.prompt, req.genTokens);
}

self.onmessage = (e: MessageEvent<OursRequest>) => {
  handle(e.data).then(
    (result) => self.postMessage({ result }),
    (err: Error) => self.postMessage({ error: err.stack ?? String(err) }),
  );
};
