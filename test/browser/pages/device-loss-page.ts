// Page side of device-loss.test.ts: a WebGPU device lost in the middle of an answer; the session
// reloads the model on the WASM backend, rebuilds the KV cache and finishes the answer.
import { createWasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { createWebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModel, type LoadedModel } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { urlSource } from '../../../src/formats/url-source.ts';

export async function greedyLosingDevice(url: string, maxTokens: number, loseAfter: number, nextTokens: number):
  Promise<{ text: string; ids: number[]; reasons: string[]; backend: string; nextPrompt: number[]; nextIds: number[]; nextPrefilled: number }> {
  const gpu = await createWebGPUBackend();
  const first = await loadModel(await urlSource(url), gpu);
  const reasons: string[] = [];
  const s = new Session(first, async (e) => {
    reasons.push(e.message);
    await first.dispose().catch(() => {});
    return loadModel(await urlSource(url), await createWasmBackend({ threads: 2 }));
  });
  const run = async (prompt: number[], max: number, onToken?: (n: number) => void) => {
    let n = 0;
    for await (const ev of s.generate(prompt, { maxTokens: max, sampling: { temperature: 0 } })) {
      if (ev.type === 'token') onToken?.(++n);
      else return ev;
    }
    throw new Error('no done event');
  };
  const done = await run(s.promptIds(''), maxTokens, (n) => { if (n === loseAfter) gpu.forceDeviceLoss(); });
  // the conversation goes on, on the new backend, reusing the rebuilt cache
  const nextPrompt = [...s.promptIds(''), ...done.ids, ...s.promptIds(' The end.').slice(1)];
  const next = await run(nextPrompt, nextTokens);
  const m: LoadedModel = s.model;
  const backend = m.decoder.backend.name;
  await m.dispose();
  return { text: done.text, ids: done.ids, reasons, backend, nextPrompt, nextIds: next.ids, nextPrefilled: next.stats.prefilledTokens };
}
