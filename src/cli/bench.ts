// `cli bench`: prefill N random tokens, then decode M tokens; reports tok/s and peak memory.
import type { CliOptions } from './args.ts';
import type { LoadedModel } from '../engine/load.ts';
import { Rng } from '../engine/rng.ts';

export interface BenchResult {
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  peakMemoryBytes: number;
  backend: string;
  threads: number;
}

export async function runBench(o: CliOptions, load: (o: CliOptions) => Promise<LoadedModel>): Promise<void> {
  const ctx = o.promptTokens + o.genTokens + 1;
  const m = await load({ ...o, ctx: Math.max(o.ctx ?? 0, ctx) });
  try {
    const { decoder, h } = m;
    const rng = new Rng(1234);
    const prompt = Int32Array.from({ length: o.promptTokens }, () => Math.floor(rng.nextFloat() * h.vocabSize));
    const t0 = performance.now();
    let logits = await decoder.forward(prompt, 0, false);
    const t1 = performance.now();
    for (let i = 0; i < o.genTokens; i++) {
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
      logits = await decoder.forward(Int32Array.of(best), o.promptTokens + i, false);
    }
    const t2 = performance.now();
    const backend = decoder.backend as typeof decoder.backend & { memoryBytes?: () => number };
    const r: BenchResult = {
      prefillTokensPerSec: (o.promptTokens / (t1 - t0)) * 1000,
      decodeTokensPerSec: (o.genTokens / (t2 - t1)) * 1000,
      peakMemoryBytes: backend.memoryBytes?.() ?? process.memoryUsage().rss,
      backend: backend.name,
      threads: backend.threads,
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } else {
      const rows: [string, string][] = [
        ['model', `${h.name} (${h.arch}, ${h.nLayers} layers, dim ${h.dim})`],
        ['backend', `${r.backend}, ${r.threads} thread(s)`],
        [`prefill (${o.promptTokens} tokens)`, `${r.prefillTokensPerSec.toFixed(1)} tok/s`],
        [`decode (${o.genTokens} tokens)`, `${r.decodeTokensPerSec.toFixed(1)} tok/s`],
        ['peak memory', `${(r.peakMemoryBytes / 2 ** 20).toFixed(1)} MiB`],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(24)} ${v}\n`);
    }
  } finally {
    await m.dispose();
  }
}
