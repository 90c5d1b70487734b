import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
const file = process.argv[2]; const threads = Number(process.argv[3] ?? 2);
const b = await createWasmBackend({ threads });
const m = await loadModel(await openNodeFile(file), b, { nCtx: 256 });
const d = m.decoder;
const prompt = Int32Array.from({ length: 128 }, (_, i) => (i * 7919) % 32000);
const out: string[] = [];
for (let r = 0; r < 6; r++) {
  const t0 = performance.now();
  await d.forward(prompt, 0, false);
  const t1 = performance.now();
  for (let i = 0; i < 32; i++) await d.forward(Int32Array.of(5), 128 + i, false);
  const t2 = performance.now();
  out.push(`pp ${(128000 / (t1 - t0)).toFixed(0)} tg ${(32000 / (t2 - t1)).toFixed(1)}`);
}
console.log(out.join(' | '));
await m.dispose();
