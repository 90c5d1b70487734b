// Where a forward pass spends its time, per backend op (matmuls by weight kind), in Node on a
// bench model: prefill N tokens, then M decode steps. Each op is timed by wall clock around the
// (synchronous) backend call, so pool dispatch and waiting count with the op.
// usage: npx tsx bench/kernels/profile-ops.ts [model] [threads] [prefill] [decode]
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import type { Backend, Weight } from '../../src/backends/backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';

const file = process.argv[2] ?? 'bench/models/llama-155m.Q4_K_M.gguf';
const threads = Number(process.argv[3] ?? 1);
const nPrefill = Number(process.argv[4] ?? 128);
const nDecode = Number(process.argv[5] ?? 32);

const backend = await createWasmBackend({ threads });
const times = new Map<string, number>();
const OPS = ['embed', 'rmsnorm', 'matmul', 'addBias', 'rope', 'storeKV', 'attention', 'glu', 'add', 'copy'] as const;
const raw = backend as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const op of OPS) {
  const f = raw[op].bind(backend);
  raw[op] = (...a: unknown[]) => {
    const t0 = performance.now();
    const r = f(...a);
    const key = op === 'matmul' ? `matmul ${(a[0] as Weight).name.replace(/^blk\.\d+\./, '')}` : op;
    times.set(key, (times.get(key) ?? 0) + performance.now() - t0);
    return r;
  };
}
const m = await loadModel(await openNodeFile(file), backend as Backend, { nCtx: nPrefill + nDecode + 8 });
const ids = Int32Array.from({ length: nPrefill }, (_, i) => (i * 7919) % m.h.vocabSize);

function report(what: string, ms: number, perTokens: number): void {
  const rows = [...times].sort((a, b) => b[1] - a[1]);
  console.log(`${what}: ${(ms / perTokens).toFixed(3)} ms/token (${((perTokens * 1000) / ms).toFixed(1)} tok/s)`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(28)} ${(v / perTokens).toFixed(3).padStart(8)} ms/token ${((100 * v) / ms).toFixed(1).padStart(5)}%`);
  times.clear();
}

await m.decoder.forward(ids, 0, false); // warm-up: tier-up of the kernels
times.clear();
let t0 = performance.now();
let logits = await m.decoder.forward(ids, 0, false);
report(`prefill ${nPrefill}`, performance.now() - t0, nPrefill);
t0 = performance.now();
for (let i = 0; i < nDecode; i++) {
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
  logits = await m.decoder.forward(Int32Array.of(best), nPrefill + i, false);
}
report(`decode ${nDecode}`, performance.now() - t0, nDecode);
console.log(`threads ${backend.threads}, ${backend.simd} SIMD`);
await m.dispose();
