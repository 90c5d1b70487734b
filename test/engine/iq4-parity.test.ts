// The engine on llama-quantize's IQ4_NL / IQ4_XS files (../shared/fixtures/arch) against llama.cpp's
// own perplexity of sample.txt (arch/llamacpp-refs.json), through each WASM matmul path: the integer
// kernels in both SIMD builds, and the f32 path.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackendOptions } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';

const refs: Record<string, { ppl: number; nTokens: number }> = JSON.parse(readFileSync(fixture('arch', 'llamacpp-refs.json'), 'utf8'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');

const PATHS: [string, WasmBackendOptions][] = [
  ['int8, relaxed SIMD', { relaxedSimd: true }],
  ['int8, plain SIMD', { relaxedSimd: false }],
  ['f32', { int8Matmul: false }],
];

describe.each(['IQ4_NL', 'IQ4_XS'])('dev-llama.%s.gguf: perplexity of sample.txt matches llama.cpp', (type) => {
  const name = `dev-llama.${type}.gguf`;
  // |Δ ln ppl| ≤ 0.02 on random weights: llama.cpp's 8-bit activation rounding alone moves ppl by
  // up to ~1.3% against exact f32 math (fixtures/arch/README.md).
  it.each(PATHS)('%s: |Δ ln ppl| ≤ 0.02', async (path, opts) => {
    const ref = refs[name];
    const m = await loadModel(await openNodeFiles(fixture('arch', name)), await createWasmBackend({ threads: 2, ...opts }));
    try {
      const ids = [m.tokenizer.bosId!, ...m.tokenizer.encode(sample)];
      expect(ids.length).toBe(ref.nTokens);
      const { ppl } = await new Session(m).perplexity(ids);
      const delta = Math.abs(Math.log(ppl) - Math.log(ref.ppl));
      console.log(`${name} (${path}): ppl ${ppl.toFixed(1)} vs llama.cpp ${ref.ppl.toFixed(1)} (Δln ${delta.toFixed(5)})`);
      expect(delta).toBeLessThanOrEqual(0.02);
    } finally {
      await m.dispose();
    }
  });
});
