// Page side of fit-webgpu.test.ts: a model loaded on WebGPU (weights split at a forced binding
// limit) beside the pre-flight's estimate for the same binding limit, context and KV type.
import { createWebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModel } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { openGGUF } from '../../../src/formats/gguf/reader.ts';
import { urlSource } from '../../../src/formats/url-source.ts';
import { estimateWebGPU, type MemoryEstimate } from '../../../src/models/memory.ts';
import { checkModelSupport } from '../../../src/models/support.ts';

export async function measure(url: string, nCtx: number, forceMaxBindingBytes?: number):
  Promise<{ memoryBytes: number; estimate: MemoryEstimate; chunks: number }> {
  const file = await openGGUF(await urlSource(url));
  const { h, arch } = checkModelSupport(file);
  const backend = await createWebGPUBackend({ forceMaxBindingBytes });
  const m = await loadModel(await urlSource(url), backend, { nCtx, kvType: 'f16' });
  try {
    const s = new Session(m);
    for await (const ev of s.generate(s.promptIds('Once upon a time'), { maxTokens: 4, sampling: { temperature: 0 } })) void ev;
    const estimate = estimateWebGPU(file, h, arch, { nCtx, kvType: 'f16', bindingLimit: backend.caps.bindingLimit });
    const chunks = (m.decoder.w.tokEmbd as unknown as { chunks: unknown[] }).chunks.length;
    return { memoryBytes: backend.memoryBytes(), estimate, chunks };
  } finally {
    await m.dispose();
  }
}
