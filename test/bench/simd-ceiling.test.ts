// The SIMD ceiling microbenchmark (bench/simd-ceiling.ts): its WASM kernels compute the same int8 dots
// as a plain JS loop in every flavour, dot.c's output parses (and a wrong-dots line is refused), and the
// ratios pair samples round by round.
import { describe, expect, it } from 'vitest';
import { ceilingReport, pairedRatio, parseNativeOutput, SSE, WIDE, widestNative, type Sample } from '../../bench/simd-ceiling.ts';
import { ceilingKernels, FLAVOURS, KL1, KST } from '../../bench/simd-ceiling/dot-wat.ts';

describe('WASM ceiling kernels', () => {
  // relaxed-add is left out: Node 20's V8 computes wrong dots with it here (its first, Liftoff-compiled calls
  // at least; bench/simd-ceiling.ts checks each measured call and marks it instead)
  for (const f of FLAVOURS.filter((x) => x !== 'relaxed-add')) {
    it(`${f}: l1 tile and stream rows match a scalar dot`, async () => {
      const rows = 8; const X = rows * KST; const OUT = X + 2 * KST;
      const k = await ceilingKernels(f, OUT + 4 * rows);
      const w = new Int8Array(k.mem.buffer, 0, rows * KST); const x = new Uint8Array(k.mem.buffer, X, 2 * KST);
      // extremes included: -128 weights and 127 activations (the i7 limit relaxed dot allows)
      for (let i = 0; i < w.length; i++) w[i] = i % 97 === 0 ? -128 : ((i * 7919) % 256) - 128;
      for (let i = 0; i < x.length; i++) x[i] = i % 89 === 0 ? 127 : (i * 104729) % 128;
      const dot = (wo: number, xo: number, n: number) => { let s = 0; for (let i = 0; i < n; i++) s += w[wo + i] * x[xo + i]; return s; };
      const o = new Int32Array(k.mem.buffer, OUT, rows);
      k.l1(0, X, OUT, 3);
      expect([...o.slice(0, 8)]).toEqual([0, 1, 2, 3].flatMap((i) => [0, 1].map((j) => 3 * dot(i * KL1, j * KL1, KL1))));
      k.stream(0, X, OUT, rows);
      expect([...o]).toEqual(Array.from({ length: rows }, (_, r) => dot(r * KST, 0, KST)));
    });
  }
});

describe('ceiling report', () => {
  it('parses dot.c lines and refuses wrong dots or junk', () => {
    expect(parseNativeOutput(WIDE, 'vnni512 l1 716.40 0.00 ok\nvnni512 stream 47.90 23.95 ok\n')).toEqual([
      { engine: WIDE, kernel: 'vnni512', set: 'l1', gops: 716.4, gbps: 0 },
      { engine: WIDE, kernel: 'vnni512', set: 'stream', gops: 47.9, gbps: 23.95 }]);
    expect(() => parseNativeOutput(SSE, 'maddubs128 l1 88.7 0.00 BAD')).toThrow('computed wrong dots');
    expect(() => parseNativeOutput(SSE, 'Segmentation fault')).toThrow('unexpected line');
  });

  const s = (engine: string, kernel: string, set: 'l1' | 'stream', gops: number): Sample => ({ engine, kernel, set, gops, gbps: gops / 2 });
  // round 2 is a slow spell for everyone: paired ratios stay put where medians of each side would not
  const rounds = [
    [s(WIDE, 'maddubs128', 'l1', 100), s(WIDE, 'vnni512', 'l1', 800), s('wasm', 'relaxed', 'l1', 80), s(WIDE, 'vnni512', 'stream', 50), s('wasm', 'relaxed', 'stream', 10)],
    [s(WIDE, 'maddubs128', 'l1', 50), s(WIDE, 'vnni512', 'l1', 400), s('wasm', 'relaxed', 'l1', 40), s(WIDE, 'vnni512', 'stream', 25), s('wasm', 'relaxed', 'stream', 5)],
    [s(WIDE, 'maddubs128', 'l1', 110), s(WIDE, 'vnni512', 'l1', 800), s('wasm', 'relaxed', 'l1', 99), s(WIDE, 'vnni512', 'stream', 50), s('wasm', 'relaxed', 'stream', 20)],
  ];

  it('takes the median of per-round ratios and the widest native kernel present', () => {
    expect(pairedRatio(rounds, 'wasm relaxed', `${WIDE} vnni512`, 'l1')).toBeCloseTo(0.1, 9);
    expect(pairedRatio(rounds, 'wasm relaxed', `${WIDE} maddubs128`, 'l1')).toBeCloseTo(0.8, 9);
    expect(pairedRatio(rounds, 'wasm relaxed', `${WIDE} vnni512`, 'stream')).toBeCloseTo(0.2, 9);
    expect(pairedRatio(rounds, 'wasm plain', `${WIDE} vnni512`, 'l1')).toBeUndefined();
    expect(widestNative(rounds, WIDE)).toBe(`${WIDE} vnni512`);
    expect(widestNative([rounds[0].filter((x) => x.kernel !== 'vnni512')], WIDE)).toBe(`${WIDE} maddubs128`);
  });

  it('prints medians per kernel and only the ratios it has both sides of', () => {
    const text = ceilingReport(rounds);
    expect(text).toMatch(/native -march=native vnni512\s+800\.0\s+50\.0\s+25\.0/);
    expect(text).toMatch(/wasm relaxed\s+80\.0\s+10\.0\s+5\.0/);
    expect(text).toContain('wasm relaxed ÷ native widest (vnni512): prefill-like (l1) 0.10×, decode-like (stream) 0.20×');
    expect(text).toContain('wasm relaxed ÷ native 128-bit pmaddubsw (same ops as relaxed) (maddubs128): prefill-like (l1) 0.80×, decode-like (stream) –×');
    expect(text).not.toContain('vnni128');
    expect(text).not.toContain('wasm plain');
  });
});
