// Reference quantizer speed: values/s per format on a 1M-value random tensor (normal(0, 0.02) with
// a few outliers, like real weights), plus a SHA-256 of the output so a faster build can be checked
// for byte-identity against a slower one. `tsx bench/quantize-speed.ts [format…]`
import { createHash } from 'node:crypto';
import { getTraits } from '../src/quant/traits.ts';
import { GGMLType } from '../src/quant/types.ts';

const FORMATS: Record<string, GGMLType> = {
  Q4_K: GGMLType.Q4_K, Q5_K: GGMLType.Q5_K, Q6_K: GGMLType.Q6_K, Q3_K: GGMLType.Q3_K, Q2_K: GGMLType.Q2_K,
  Q4_0: GGMLType.Q4_0, Q4_1: GGMLType.Q4_1, Q5_0: GGMLType.Q5_0, Q5_1: GGMLType.Q5_1, Q8_0: GGMLType.Q8_0,
};
const N = 1 << 20;

/** Deterministic normal(0, 0.02) values (xorshift + Box-Muller), every 997th one ×20. */
function randomTensor(n: number): Float32Array {
  let s = 0x9e3779b9;
  const u = () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) * 0.02;
    x[i] = i % 997 === 0 ? g * 20 : g;
  }
  return x;
}

const x = randomTensor(N);
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(FORMATS);
for (const name of names) {
  const tr = getTraits(FORMATS[name], name);
  const nBlocks = N / tr.blockSize;
  const out = new Uint8Array(nBlocks * tr.typeSize);
  tr.quantize!(x, 0, Math.min(nBlocks, 64), out, 0); // warm up
  // CPU time, not wall time: the machine is shared and this runs under nice
  const t0 = process.cpuUsage();
  tr.quantize!(x, 0, nBlocks, out, 0);
  const secs = process.cpuUsage(t0).user / 1e6;
  const hash = createHash('sha256').update(out).digest('hex').slice(0, 16);
  console.log(`${name.padEnd(5)} ${(N / secs / 1e6).toFixed(2).padStart(7)} M values/s  ${secs.toFixed(2)} s  sha256 ${hash}`);
}
