// Four-token versions of the formats-q8.ts snippets for prefill: `rowdotq4_<id>(w, x, stride,
// dOff, sOff, nb, out, os, ds)` dots one weight row (nb blocks at w) with the 8-bit rows of tokens
// x, x + stride, x + 2·stride, x + 3·stride and stores the four sums at out, out + os, … (bytes).
// Each weight block is unpacked and its scales decoded once for the four tokens. Formats marked
// `prep` in scripts/build-wasm.mjs also have `rowPrep4_<id>(w, nb, ds)`, run once per row before
// its tiles: what it writes at ds (the thread's scratch past CHUNK) serves all of them.
import { loadF16 } from './common';
import { bitAs } from './formats-q8-more';
import { q8TileOffset } from './q8-acts';
import { TILE_LANE_SUMS, dot16, dotSS, dotSS2 } from './dot';
import { LO4, dotScaled2, dotU7, hiNib, kFinish, kMinSums, kScalesMins, q6Offsets, q6Values, scales4, splatScale, sum16, sum4 } from './formats-q8';

@inline export function scaleOf(x: usize, dOff: usize, b: i32): f32 {
  return load<f32>(x + dOff + (<usize>b << 2));
}

@inline export function store4(out: usize, os: usize, s0: f32, s1: f32, s2: f32, s3: f32): void {
  store<f32>(out, s0);
  store<f32>(out + os, s1);
  store<f32>(out + 2 * os, s2);
  store<f32>(out + 3 * os, s3);
}

/** Σ over one q8_0 block (weights at blk) with each of the four tokens' 32 activation bytes at
 *  x + o, x1 + o, …, lane t for token t: the block's sums meet in one vector for one convert. */
@inline function q8Sums(blk: usize, x: usize, x1: usize, x2: usize, x3: usize, o: usize, ones: v128): v128 {
  const w0 = v128.load(blk + 2), w1 = v128.load(blk + 18);
  return sum4(dotSS2(w0, v128.load(x + o), w1, v128.load(x + o + 16), ones),
    dotSS2(w0, v128.load(x1 + o), w1, v128.load(x1 + o + 16), ones),
    dotSS2(w0, v128.load(x2 + o), w1, v128.load(x2 + o + 16), ones),
    dotSS2(w0, v128.load(x3 + o), w1, v128.load(x3 + o + 16), ones));
}

/** The four tokens' activation scales of block b, as one vector: a load from the interleaved
 *  tile scales (q8-acts.ts) of row xk = the tile's row b & 3. */
@inline function q8Scales(xk: usize, tOff: usize, b: i32): v128 {
  return v128.load(xk + tOff + (<usize>(b & ~3) << 2));
}

/** acc + block b's four sums × (weight scale d × activation scales): one convert, two muls, one add. */
@inline function q8Step(acc: v128, w: usize, x: usize, x1: usize, x2: usize, x3: usize, xk: usize, tOff: usize, b: i32,
  d: v128, ones: v128): v128 {
  const p = q8Sums(w + <usize>b * 34, x, x1, x2, x3, <usize>b << 5, ones);
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.mul(d, q8Scales(xk, tOff, b))));
}

/**
 * The row's nb f16 block scales (blocks of `size` bytes at w) as f32 at ds. A prefill batch of 64
 * tokens has 16 tiles per row: converted once here (f16 has no instruction in WASM; the software
 * conversion and its constants were a tenth of the q8_0 tile's instructions when done per tile).
 */
@inline export function prepScales(w: usize, nb: i32, size: usize, ds: usize): void {
  let b = 0;
  for (; b + 4 <= nb; b += 4) v128.store(ds + (<usize>b << 2), scales4(w + <usize>b * size, size));
  for (; b < nb; b++) store<f32>(ds + (<usize>b << 2), loadF16(w + <usize>b * size));
}

export function rowPrep4_q8_0(w: usize, nb: i32, ds: usize): void {
  prepScales(w, nb, 34, ds);
}

export function rowPrep4_q4_0(w: usize, nb: i32, ds: usize): void {
  prepScales(w, nb, 18, ds);
}

/**
 * Relaxed build: blocks go four at a time, as in rowdotq_q8_0: their weight scales (prepped at
 * ds) loaded at once, block k of each four summed into acc_k, whose lanes are the four tokens. The
 * same products and additions in the same order as rowdotq_q8_0, so a token's prefill sums equal
 * its decode sums bit for bit. Plain build: one accumulator per token (q8TokTile), faster there.
 */
export function rowdotq4_q8_0(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize, ds: usize): void {
  if (!TILE_LANE_SUMS) {
    q8TokTile(w, x, stride, dOff, sOff, nb, out, os, ds);
    return;
  }
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  const tOff = q8TileOffset(sOff, nb << 5);
  // i16x8 of 1 the compilers cannot fold (nb ≥ 0), so it stays in a register (see dotSS2)
  const ones = i16x8.splat(<i16>((nb >>> 31) ^ 1));
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const d = v128.load(ds + (<usize>b << 2));
    a0 = q8Step(a0, w, x, x1, x2, x3, x, tOff, b, f32x4.splat(f32x4.extract_lane(d, 0)), ones);
    pin(out, a0);
    a1 = q8Step(a1, w, x, x1, x2, x3, x1, tOff, b + 1, f32x4.splat(f32x4.extract_lane(d, 1)), ones);
    pin(out, a1);
    a2 = q8Step(a2, w, x, x1, x2, x3, x2, tOff, b + 2, f32x4.splat(f32x4.extract_lane(d, 2)), ones);
    pin(out, a2);
    a3 = q8Step(a3, w, x, x1, x2, x3, x3, tOff, b + 3, f32x4.splat(f32x4.extract_lane(d, 3)), ones);
    pin(out, a3);
  }
  // rowdotq_q8_0's tail: (sum · d) · activation scale per block, after the four-block sums
  let t = f32x4.splat(0);
  for (; b < nb; b++) {
    const blk = w + <usize>b * 34;
    const p = f32x4.mul(f32x4.convert_i32x4_s(q8Sums(blk, x, x1, x2, x3, <usize>b << 5, ones)), v128.load32_splat(ds + (<usize>b << 2)));
    t = f32x4.add(t, f32x4.mul(p, q8Scales(x + <usize>(b & 3) * stride, tOff, b)));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(f32x4.add(a0, a1), a2), a3), t);
  store4(out, os, f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1), f32x4.extract_lane(s, 2), f32x4.extract_lane(s, 3));
}

@inline function q8Tok(acc: v128, w0: v128, w1: v128, a: usize, s: v128): v128 {
  const p = dotSS(dotSS(i32x4.splat(0), w0, v128.load(a)), w1, v128.load(a + 16));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), s));
}

/** rowdotq4_q8_0 of the plain build: per token an f32x4 of partial sums, added up at the end. */
@inline function q8TokTile(w: usize, x: usize, stride: usize, dOff: usize, _sOff: usize, nb: i32,
  out: usize, os: usize, ds: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 34;
    const w0 = v128.load(blk + 2);
    const w1 = v128.load(blk + 18);
    const d = v128.load32_splat(ds + (<usize>b << 2));
    const o = <usize>b << 5;
    const so = dOff + (<usize>b << 2);
    a0 = q8Tok(a0, w0, w1, x + o, f32x4.mul(d, v128.load32_splat(x + so)));
    a1 = q8Tok(a1, w0, w1, x1 + o, f32x4.mul(d, v128.load32_splat(x1 + so)));
    a2 = q8Tok(a2, w0, w1, x2 + o, f32x4.mul(d, v128.load32_splat(x2 + so)));
    a3 = q8Tok(a3, w0, w1, x3 + o, f32x4.mul(d, v128.load32_splat(x3 + so)));
  }
  store4(out, os, hsumF(a0), hsumF(a1), hsumF(a2), hsumF(a3));
}

@inline function hsumF(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function q4Tok(acc: v128, lo: v128, hi: v128, a: usize, s: f32): v128 {
  const p = dotU7(dotU7(i32x4.splat(0), lo, v128.load(a)), hi, v128.load(a + 16));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.splat(s)));
}

@inline function q4Corr(x: usize, sOff: usize, b: i32, s: f32): f32 {
  return s * <f32>(sum16(x + sOff, <usize>(2 * b)) + sum16(x + sOff, <usize>(2 * b + 1)));
}

export function rowdotq4_q4_0(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize, ds: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0;
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 18;
    const q = v128.load(blk + 2);
    const lo = v128.and(q, LO4);
    const hi = hiNib(q);
    const d = load<f32>(ds + (<usize>b << 2));
    const o = <usize>b << 5;
    const s0 = d * scaleOf(x, dOff, b), s1 = d * scaleOf(x1, dOff, b);
    const s2 = d * scaleOf(x2, dOff, b), s3 = d * scaleOf(x3, dOff, b);
    a0 = q4Tok(a0, lo, hi, x + o, s0);
    a1 = q4Tok(a1, lo, hi, x1 + o, s1);
    a2 = q4Tok(a2, lo, hi, x2 + o, s2);
    a3 = q4Tok(a3, lo, hi, x3 + o, s3);
    c0 += q4Corr(x, sOff, b, s0);
    c1 += q4Corr(x1, sOff, b, s1);
    c2 += q4Corr(x2, sOff, b, s2);
    c3 += q4Corr(x3, sOff, b, s3);
  }
  store4(out, os, hsumF(a0) - 8 * c0, hsumF(a1) - 8 * c1, hsumF(a2) - 8 * c2, hsumF(a3) - 8 * c3);
}

/**
 * Makes the engine finish `v` before the loads that follow: a store is ordered against loads, so
 * this fences TurboFan (Node 20's V8), which otherwise schedules every load of a tile body first and
 * spills most of them (2× the instructions). The slot written is the tile's own output, stored for
 * real at the end; one movd per use.
 */
@inline export function pin(out: usize, v: v128): void {
  store<i32>(out, i32x4.extract_lane(v, 0));
}

/** acc + a q4_k/q5_k chunk (values l0, l1 low sub-block, h0, h1 high) against 64 activations at a, pinned. */
@inline function kTok(acc: v128, l0: v128, l1: v128, h0: v128, h1: v128, a: usize, sl: v128, sh: v128, out: usize): v128 {
  acc = dotScaled2(acc, l0, v128.load(a), l1, v128.load(a + 16), sl);
  acc = dotScaled2(acc, h0, v128.load(a + 32), h1, v128.load(a + 48), sh);
  pin(out, acc);
  return acc;
}

/**
 * The q4_k / q5_k tile (blocks of `size` bytes; q5_k when `five`, a constant in both callers):
 * f16 d, f16 dmin, 12 scale bytes, [q5_k: qh 32], qs 128. Chunk c is 32 qs bytes, sub-blocks 2c
 * (low nibbles) and 2c + 1 (high; q5_k adds qh bits 2c and 2c + 1 as 16), unpacked once for the
 * four tokens.
 */
@inline function kTile(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32, out: usize, os: usize,
  size: usize, five: bool): void {
  let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * size;
    const so = sOff + (<usize>b << 5);
    const sm = kScalesMins(blk + 4);
    const s16 = i16x8.extend_low_i8x16_u(sm);
    const qs = blk + (five ? 48 : 16);
    let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
    for (let c: usize = 0; c < 4; c++) {
      const q0 = v128.load(qs + (c << 5));
      const q1 = v128.load(qs + 16 + (c << 5));
      let l0 = v128.and(q0, LO4), l1 = v128.and(q1, LO4), h0 = hiNib(q0), h1 = hiNib(q1);
      if (five) {
        const qh0 = v128.load(blk + 16), qh1 = v128.load(blk + 32);
        const k = <i32>c << 1;
        l0 = v128.or(l0, bitAs(qh0, k, 4)); l1 = v128.or(l1, bitAs(qh1, k, 4));
        h0 = v128.or(h0, bitAs(qh0, k + 1, 4)); h1 = v128.or(h1, bitAs(qh1, k + 1, 4));
      }
      const sl = i8x16.swizzle(s16, i16x8.splat(<i16>(0x0100 + c * 0x0404)));
      const sh = i8x16.swizzle(s16, i16x8.splat(<i16>(0x0302 + c * 0x0404)));
      const a = (<usize>b << 8) + (c << 6);
      i0 = kTok(i0, l0, l1, h0, h1, x + a, sl, sh, out);
      i1 = kTok(i1, l0, l1, h0, h1, x1 + a, sl, sh, out);
      i2 = kTok(i2, l0, l1, h0, h1, x2 + a, sl, sh, out);
      i3 = kTok(i3, l0, l1, h0, h1, x3 + a, sl, sh, out);
    }
    const m16 = i16x8.extend_high_i8x16_u(sm);
    const d = loadF16(blk);
    const dmin = loadF16(blk + 2);
    f0 = f32x4.add(f0, kFinish(i0, kMinSums(m16, x + so), d, dmin, scaleOf(x, dOff, b)));
    f1 = f32x4.add(f1, kFinish(i1, kMinSums(m16, x1 + so), d, dmin, scaleOf(x1, dOff, b)));
    f2 = f32x4.add(f2, kFinish(i2, kMinSums(m16, x2 + so), d, dmin, scaleOf(x2, dOff, b)));
    f3 = f32x4.add(f3, kFinish(i3, kMinSums(m16, x3 + so), d, dmin, scaleOf(x3, dOff, b)));
  }
  store4(out, os, hsumF(f0), hsumF(f1), hsumF(f2), hsumF(f3));
}

export function rowdotq4_q4_k(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize, _ds: usize): void {
  kTile(w, x, stride, dOff, sOff, nb, out, os, 144, false);
}

export function rowdotq4_q5_k(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize, _ds: usize): void {
  kTile(w, x, stride, dOff, sOff, nb, out, os, 176, true);
}

/** acc + the four groups of one (n, h) of q6_k (values q0..q3, scales s0..s3) against activations at a, pinned. */
@inline function q6Tok4(acc: v128, q0: v128, q1: v128, q2: v128, q3: v128, s0: v128, s1: v128, s2: v128, s3: v128,
  a: usize, out: usize): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q0, v128.load(a)), s0));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q1, v128.load(a + 32)), s1));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q2, v128.load(a + 64)), s2));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(dot16(q3, v128.load(a + 96)), s3));
  pin(out, acc);
  return acc;
}

@inline function q6Done(acc: v128, isum: v128, s: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(s)));
}

export function rowdotq4_q6_k(w: usize, x: usize, stride: usize, dOff: usize, sOff: usize, nb: i32,
  out: usize, os: usize, _ds: usize): void {
  let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 210;
    const so = sOff + (<usize>b << 5);
    let i0 = i32x4.neg(q6Offsets(blk + 192, x + so)), i1 = i32x4.neg(q6Offsets(blk + 192, x1 + so));
    let i2 = i32x4.neg(q6Offsets(blk + 192, x2 + so)), i3 = i32x4.neg(q6Offsets(blk + 192, x3 + so));
    // group g = 8n + 2k + h: values 16g.., nibble of ql[64n + 32(k&1) + 16h] (high when k ≥ 2), qh
    // bits 2k. The four k are written out (q6Values's branches fold only for a constant k) and
    // unpacked once for the four tokens.
    for (let n: usize = 0; n < 2; n++) {
      for (let h: usize = 0; h < 2; h++) {
        const l0 = v128.load(blk + n * 64 + h * 16);
        const l1 = v128.load(blk + n * 64 + 32 + h * 16);
        const hv = v128.load(blk + 128 + n * 32 + h * 16);
        const g = n * 8 + h;
        const q0 = q6Values(l0, hv, 0), q1 = q6Values(l1, hv, 1), q2 = q6Values(l0, hv, 2), q3 = q6Values(l1, hv, 3);
        const sc = blk + 192 + g;
        const s0 = splatScale(sc), s1 = splatScale(sc + 2), s2 = splatScale(sc + 4), s3 = splatScale(sc + 6);
        const o = (<usize>b << 8) + (g << 4);
        i0 = q6Tok4(i0, q0, q1, q2, q3, s0, s1, s2, s3, x + o, out);
        i1 = q6Tok4(i1, q0, q1, q2, q3, s0, s1, s2, s3, x1 + o, out);
        i2 = q6Tok4(i2, q0, q1, q2, q3, s0, s1, s2, s3, x2 + o, out);
        i3 = q6Tok4(i3, q0, q1, q2, q3, s0, s1, s2, s3, x3 + o, out);
      }
    }
    const d = loadF16(blk + 208);
    f0 = q6Done(f0, i0, d * scaleOf(x, dOff, b));
    f1 = q6Done(f1, i1, d * scaleOf(x1, dOff, b));
    f2 = q6Done(f2, i2, d * scaleOf(x2, dOff, b));
    f3 = q6Done(f3, i3, d * scaleOf(x3, dOff, b));
  }
  store4(out, os, hsumF(f0), hsumF(f1), hsumF(f2), hsumF(f3));
}

export { rowPrep4_iq4_nl, rowdotq4_iq4_nl, rowdotq4_iq4_xs } from './formats-iq4';
