// Page side of webgpu-mlc.test.ts: an MLC-LLM folder and its round-trip HF folder, each a set of
// files over HTTP range requests, run by the real engine on the WebGPU backend.
import { createWebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModelInput } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { openHFFolder } from '../../../src/formats/hf/folder.ts';
import { MLC_CONFIG, openMLCFolder } from '../../../src/formats/mlc/folder.ts';
import type { FolderFiles } from '../../../src/formats/safetensors/set.ts';
import { urlSource } from '../../../src/formats/url-source.ts';

/** Perplexity of `text` on the folder whose files are at `urls` (name → URL). */
export async function folderPerplexity(name: string, urls: Record<string, string>, text: string): Promise<{ ppl: number; types: number[] }> {
  const dir: FolderFiles = { name, names: Object.keys(urls), open: (n) => urlSource(urls[n]) };
  const file = dir.names.includes(MLC_CONFIG) ? await openMLCFolder(dir) : await openHFFolder(dir);
  const m = await loadModelInput(file, await createWebGPUBackend());
  try {
    const t = m.tokenizer;
    const { ppl } = await new Session(m).perplexity([t.bosId!, ...t.encode(text)]);
    return { ppl, types: [...new Set(m.file.tensors.map((x) => x.type))] };
  } finally {
    await m.dispose();
  }
}
