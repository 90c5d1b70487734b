// A/B of two kernel builds on this noisy shared machine: alternates them `rounds` times in one
// process and keeps each case's best time, so slow spells of the host hit both alike.
// usage: cp src/backends/wasm/build/kernels-st-relaxed.wasm /tmp/a.wasm (build A), rebuild B, then
//        npx tsx bench/kernels/ab-bench.ts /tmp/a.wasm src/backends/wasm/build/kernels-st-relaxed.wasm [rounds] [types]
import { readFile } from 'node:fs/promises';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { nodePlatform } from '../../src/backends/wasm/node-platform.ts';
import type { WasmPlatform } from '../../src/backends/wasm/platform.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { matmulBench } from './matmul-cases.ts';

const [fileA, fileB] = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] ?? 5);
const types = (process.argv[5] ?? 'Q4_K,Q6_K,Q8_0,Q4_0').split(',').map((n) => GGMLType[n as keyof typeof GGMLType]);

async function platformOf(file: string): Promise<WasmPlatform> {
  nodePlatform.relaxedSimd(); // switches the flag on where needed
  const module = await WebAssembly.compile(new Uint8Array(await readFile(file)));
  return { ...nodePlatform, loadModule: () => Promise.resolve(module) };
}

const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const best = new Map<string, number>();
for (let round = 0; round < rounds; round++) {
  for (const [name, file] of [['A', fileA], ['B', fileB]]) {
    const b = await createWasmBackend({ threads: 1, platform: await platformOf(file) });
    for (const line of matmulBench(b, cpuMs, types)) {
      const id = line.slice(0, 5).trim();
      for (const m of line.matchAll(/n=(\d+):\s+(\d+) µs/g)) {
        const key = `${id} n=${m[1]} ${name}`;
        best.set(key, Math.min(best.get(key) ?? Infinity, Number(m[2])));
      }
    }
    b.dispose();
  }
}
for (const [key, us] of [...best].sort()) console.log(`${key.padEnd(14)} ${String(us).padStart(7)} µs`);
