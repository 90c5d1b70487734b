// Per-token cost of the full grammar mask on a real 151k vocabulary (Qwen3's, from the arch fixture):
// a decode loop over pseudo-random logits, each step masked (no greedy shortcut) and argmaxed,
// timing only the constraint's work (mask + apply + accept): the worst case of a sampled answer.
// `tsx bench/mask-speed.ts [N]`; the model-level figure is bench/constrained.ts's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileConstraint, type ConstraintOptions } from '../src/engine/grammar/compile.ts';
import { Rng } from '../src/engine/rng.ts';
import { argmax } from '../src/engine/sampling.ts';
import type { Tokenizer } from '../src/tokenizer/tokenizer.ts';
import { tokenizerOf } from './measure.ts';
import { fixture } from '../test/fixtures.ts';

/** the constrained-decoding bench's nested schema (bench/constrained.ts) */
export const BENCH_SCHEMA: unknown = JSON.parse(readFileSync(path.join(import.meta.dirname, 'schemas/nested.json'), 'utf8'));

export interface MaskTiming { label: string; tokens: number; msPerToken: number; firstMs: number; restarts: number }

/**
 * `tokens` steps; when the grammar completes (EOG picked, or nothing may follow) a fresh constraint
 * starts over, so every step is a constrained one. Logits: a fixed random vector plus noise per step.
 */
export function maskTiming(t: Tokenizer, label: string, o: ConstraintOptions, tokens: number, seed = 1): MaskTiming {
  const V = t.vocabSize;
  const rng = new Rng(seed);
  const base = Float32Array.from({ length: V }, () => rng.nextFloat() * 4);
  const logits = new Float32Array(V);
  let c = compileConstraint(t, o)!;
  let restarts = 0, firstMs = 0, total = 0;
  for (let i = 0; i < tokens; i++) {
    for (let j = 0; j < V; j++) logits[j] = base[j] + rng.nextFloat() * 4;
    const t0 = performance.now();
    c.apply(logits);
    let id = argmax(logits);
    if (t.eogIds.has(id)) { c = compileConstraint(t, o)!; restarts++; id = -1; }
    if (id >= 0) { c.accept(id); if (c.done) { c = compileConstraint(t, o)!; restarts++; } }
    const ms = performance.now() - t0;
    if (i === 0) firstMs = ms;
    total += ms;
  }
  return { label, tokens, msPerToken: total / tokens, firstMs, restarts };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 200);
  const t0 = performance.now();
  const t = await tokenizerOf(fixture('arch', 'dev-qwen3.Q8_0.gguf'));
  process.stderr.write(`Qwen3 vocabulary: ${t.vocabSize} tokens (${(performance.now() - t0).toFixed(0)} ms to load)\n`);
  for (const [label, o] of [['json_schema (nested)', { jsonSchema: BENCH_SCHEMA }], ['json_object', { responseFormat: { type: 'json_object' } }]] as const) {
    const r = maskTiming(t, label, o, n);
    process.stderr.write(`${label}: ${r.msPerToken.toFixed(2)} ms/token over ${n} tokens (first ${r.firstMs.toFixed(0)} ms, ${r.restarts} restarts)\n`);
  }
}
