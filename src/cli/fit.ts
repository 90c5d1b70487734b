// `fit`: the memory pre-flight from the model's header alone — a local file (or split set), or an
// http(s) URL of which only the header's byte ranges are fetched. No tensor data is read.
import os from 'node:os';
import { openGGUF, type GGUFFile } from '../formats/gguf/reader.ts';
import { openNodeModel } from '../formats/node-file-source.ts';
import { urlSource } from '../formats/url-source.ts';
import { fitJson, fitModel, type FitReport } from '../models/fit.ts';
import { checkModelSupport } from '../models/support.ts';
import type { CliOptions } from './args.ts';

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** The model to pre-flight: a URL (only its header's byte ranges are fetched), a GGUF file or split set, or a Hugging Face folder. */
async function openModelHeader(model: string): Promise<GGUFFile> {
  if (/^https?:\/\//i.test(model)) return openGGUF([await urlSource(model)]);
  // a folder: its safetensors headers and config.json, presented as a GGUF header
  const local = await openNodeModel(model);
  return Array.isArray(local) ? openGGUF(local) : local;
}

export async function runFit(o: CliOptions, out: (s: string) => void): Promise<FitReport> {
  const file = await openModelHeader(o.model);
  let r: FitReport;
  try {
    const { h, arch } = checkModelSupport(file);
    r = fitModel(file, h, arch, { memoryBytes: o.memory ?? os.totalmem() },
      // the threads the CLI's WASM backend would start (each has its own scratch)
      { backend: o.backend, nCtx: o.ctx, kvType: o.kvType, threads: o.threads ?? Math.min(os.availableParallelism(), 8) });
    if (o.json) {
      out(`${JSON.stringify(fitJson(r))}\n`);
      return r;
    }
    const e = r.estimate;
    const rows: [string, string][] = [
      ['model', `${h.name} (${h.arch}, ${h.nLayers} layers, dim ${h.dim}, vocab ${h.vocabSize})`],
      ['backend', `${r.backend}, context ${r.nCtx}, KV ${r.kvType}`],
      ['weights', mib(r.weightsBytes)],
      ['KV cache', mib(r.kvBytes)],
      ['scratch', mib(r.scratchBytes)],
      ['tokenizer + loading', `${mib(e.tokenizerBytes)} + ${mib(e.loadTransientBytes)} (JS heap)`],
      ['total', mib(r.totalBytes)],
      ['budget', `${mib(r.budgetBytes)} (${r.limitedBy})`],
      ['largest context', r.maxCtx > 0 ? String(r.maxCtx) : 'none with every layer resident'],
    ];
    for (const [k, v] of rows) out(`${k.padEnd(20)} ${v}\n`);
    out(`${r.message}\n`);
  } finally {
    await file.close();
  }
  return r;
}
