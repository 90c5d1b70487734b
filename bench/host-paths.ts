// Speed of the host-side paths that run once per token or per load, not in kernels: sampling a 128k
// vocabulary with the default chain, building a 128k-token byte-level BPE vocabulary, and encoding a
// few KB with a real GPT-2 vocabulary. Targets (checked here, not in the unit tests, where a busy
// machine would make a wall-clock bound flaky): ≤ 30 ms per sampled token, ≤ 1.5 s per vocabulary
// build, ≤ 100 ms per 4.5 KB encoded. `tsx bench/host-paths.ts`, and part of `npm run bench`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sampler } from '../src/engine/sampling.ts';
import { tokenizerFromGGUF } from '../src/tokenizer/from-gguf.ts';
import { ggufMetadata, syntheticByteLevelVocab } from '../test/tokenizer/helpers.ts';
import { fixture } from '../test/fixtures.ts';

export interface HostPathTiming { name: string; ms: number; targetMs: number }

function time(f: () => void, reps = 1): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

export function hostPathTimings(): HostPathTiming[] {
  const V = 128_256;
  const logits = Float32Array.from({ length: V }, (_, i) => Math.sin(i * 12.9898) * 8);
  const s = new Sampler({ seed: 1 }, V);
  s.sample(logits); // JIT
  const sample = time(() => s.accept(s.sample(logits)), 100);
  const build = time(() => tokenizerFromGGUF(syntheticByteLevelVocab(128_000)));
  const real = tokenizerFromGGUF(ggufMetadata(fixture('quant', 'dev-gpt2vocab.Q4_0.gguf')));
  const text = readFileSync(fixture('quant', 'sample.txt'), 'utf8').repeat(10);
  real.encode(text); // warm caches and JIT
  const encode = time(() => real.encode(`${text}x`));
  return [
    { name: 'sample a 128k vocabulary (default chain)', ms: sample, targetMs: 30 },
    { name: 'build a 128k-token byte-level BPE vocabulary', ms: build, targetMs: 1500 },
    { name: `encode ${(text.length / 1024).toFixed(1)} KB (GPT-2 vocabulary)`, ms: encode, targetMs: 100 },
  ];
}

export function printHostPaths(rows: HostPathTiming[]): boolean {
  for (const r of rows) process.stderr.write(`${r.ms <= r.targetMs ? 'ok  ' : 'SLOW'} ${r.name}: ${r.ms.toFixed(1)} ms (target ≤ ${r.targetMs} ms)\n`);
  return rows.every((r) => r.ms <= r.targetMs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = printHostPaths(hostPathTimings()) ? 0 : 1;
