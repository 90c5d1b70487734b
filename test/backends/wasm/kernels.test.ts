// White-box checks of the half-float conversions inside the kernels, on every f16 bit pattern and
// on the f32 → f16 rounding edge cases, against src/quant/half.ts (bit-exact with ggml).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../../../src/quant/half.ts';

type Fn = (...args: number[]) => number;
let mem: WebAssembly.Memory;
let k: Record<string, Fn>;
const BASE = 1 << 20;

beforeAll(() => {
  const bytes = readFileSync(fileURLToPath(new URL('../../../src/backends/wasm/build/kernels-st.wasm', import.meta.url)));
  mem = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: mem } }).exports as Record<string, Fn>;
});

describe('kernel half-float conversions', () => {
  it('deq_f16 (SIMD groups and scalar tail) decodes all 65536 f16 patterns exactly', () => {
    const n = 65536;
    new Uint16Array(mem.buffer, BASE, n).set(Uint16Array.from({ length: n }, (_, i) => i));
    // an odd count exercises the 4-wide groups and the per-value tail
    k.deq_f16(BASE, BASE + 2 * n, n - 1);
    k.deq_f16(BASE + 2 * (n - 1), BASE + 2 * n + 4 * (n - 1), 1);
    const got = new Float32Array(mem.buffer, BASE + 2 * n, n);
    let bad = 0;
    for (let h = 0; h < n; h++) if (!Object.is(got[h], f16ToF32(h)) && !(Number.isNaN(got[h]) && Number.isNaN(f16ToF32(h)))) bad++;
    expect(bad).toBe(0);
  });

  it('storeRows(f16) rounds f32 to f16 like ggml (ties to even, subnormals, overflow, inf, NaN)', () => {
    const edge = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e9, -1e9, Infinity, -Infinity, NaN, 2 ** -14, 2 ** -24,
      2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -25, 2 ** -26, 1e-10, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, 6.1e-5, 5.96e-8];
    const rand = Array.from({ length: 4000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 14) - 9));
    const vals = Float32Array.from([...edge, ...rand]);
    new Float32Array(mem.buffer, BASE, vals.length).set(vals);
    k.storeRows(BASE, BASE + 4 * vals.length, vals.length, 1);
    const got = Array.from(new Uint16Array(mem.buffer, BASE + 4 * vals.length, vals.length));
    const want = Array.from(vals, (v) => f32ToF16(v));
    // NaN payloads may differ; both must be NaN
    const norm = (h: number) => ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0 ? 'nan' : h);
    expect(got.map(norm)).toEqual(want.map(norm));
  });
});
