// The backend rounds a matmul input to 8 bits once and reuses that copy for the next matmuls on
// the same input (q/k/v, gate/up). Every op that can change the input must drop the copy: each
// case changes the input between two matmuls and checks the second against f64 math on the new
// input rounded in JS (rel err < 1e-5, as in matmul-int8.test.ts), at 1 and 2 threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../../../src/backends/backend.ts';
import { createWasmBackend, type WasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { FORMAT_TRAITS } from '../../../src/quant/traits.ts';
import { GGMLType } from '../../../src/quant/types.ts';
import { dequant, randomF32, randomTensor, refMatmul, relErr, rng, roundActs } from './helpers.ts';

const COLS = 256;
const ROWS = 256;
const N = 2;

describe.each([1, 2])('rounded-input reuse, %i thread(s)', (threads) => {
  let b: WasmBackend;
  const r = rng(99 + threads);
  const t = FORMAT_TRAITS.get(GGMLType.Q4_K)!;
  const bytes = randomTensor(t, ROWS, COLS, r);
  const wf = dequant(t, bytes, ROWS * COLS);
  let x: Activation;
  let y: Activation;
  let w: ReturnType<WasmBackend['uploadWeight']>;

  beforeAll(async () => {
    b = await createWasmBackend({ threads, parallelThreshold: 0 });
    w = b.uploadWeight('w', GGMLType.Q4_K, COLS, ROWS, bytes);
    x = b.alloc(N * COLS);
    y = b.alloc(N * ROWS);
  });
  afterAll(() => b.dispose());

  /** y = W·x on the backend vs the reference on x's current values. */
  async function check(what: string): Promise<void> {
    const xf = await b.read(x, 0, N * COLS);
    b.matmul(w, x, y, N);
    const got = await b.read(y, 0, N * ROWS);
    expect(relErr(got, refMatmul(wf, roundActs(xf, 256), ROWS, COLS, N)), what).toBeLessThan(1e-5);
  }

  it('two matmuls on one input agree with the reference', async () => {
    b.write(x, randomF32(N * COLS, r));
    await check('first');
    await check('reused');
  });

  it.each([
    ['write', () => b.write(x, randomF32(N * COLS, r))],
    ['add', () => { const s = b.alloc(N * COLS); b.write(s, randomF32(N * COLS, r)); b.add(x, s, N * COLS); b.free(s); }],
    ['copy', () => { const s = b.alloc(COLS); b.write(s, randomF32(COLS, r)); b.copy(s, 0, x, COLS, COLS); b.free(s); }],
    ['glu', () => b.glu(x, x, x, N * COLS, 'silu')],
    ['matmul into the input', () => b.matmul(w, y, x, N)],
  ] as const)('%s in between drops the rounded copy', async (what, change) => {
    b.write(x, randomF32(N * COLS, r));
    await check(`before ${what}`);
    change();
    await check(`after ${what}`);
  });
});
