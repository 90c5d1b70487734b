// Integer-path snippets of the non-linear 4-bit formats (see formats-q8.ts for rowdotq_<id>,
// formats-q8x4.ts for the four-token rowdotq4_<id>): each nibble indexes the 16-entry level table
// (looked up inside dot.ts's dot16Lookup / dotLookup), then signed × signed 8-bit dots. No
// offsets or mins, so the activation sums go unused. iq4_nl pairs with 32-value activation blocks
// (qb 32, llama.cpp's q8_0), iq4_xs with 256 (qb 256, q8_K).
import { loadF16 } from './common';
import { dot16Lookup, dotLookup } from './dot';
import { LO4, hiNib, hsumF, hsumI, scales4, sum4 } from './formats-q8';
import { pin, prepScales, scaleOf, store4 } from './formats-q8x4';

/** kvalues_iq4nl as magnitudes and sign masks (the form dot16Lookup takes). */
const IQ4_MAG = i8x16(127, 104, 83, 65, 49, 35, 22, 10, 1, 13, 25, 38, 53, 69, 89, 113);
const IQ4_NEG = i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);

/** i16x8 pair sums of level[idx]·a for 16 nibble indices idx and 16 activations at a. */
@inline function levelDot(idx: v128, a: usize): v128 {
  return dot16Lookup(IQ4_MAG, IQ4_NEG, idx, v128.load(a));
}

/** i32x4 partial sums of a 32-value block: nibble indices lo (values 0..15) and hi (16..31). */
@inline function dot32(lo: v128, hi: v128, a: usize): v128 {
  const acc = dotLookup(i32x4.splat(0), IQ4_MAG, IQ4_NEG, lo, v128.load(a));
  return dotLookup(acc, IQ4_MAG, IQ4_NEG, hi, v128.load(a + 16));
}

// iq4_nl (qb 32): f16 d, qs[16]

/** Σ level·a over one iq4_nl block at blk and its 32 activation bytes at a (i32x4 partial sums). */
@inline function nlBlock(blk: usize, a: usize): v128 {
  const q = v128.load(blk + 2);
  return dot32(v128.and(q, LO4), hiNib(q), a);
}

/** As rowdotq_q8_0: four blocks per step, their sums and scales (weight d × activation d) as one vector each. */
export function rowdotq_iq4_nl(w: usize, xq: usize, xd: usize, _xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const blk = w + <usize>b * 18;
    const a = xq + (<usize>b << 5);
    const p = sum4(nlBlock(blk, a), nlBlock(blk + 18, a + 32), nlBlock(blk + 36, a + 64), nlBlock(blk + 54, a + 96));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.mul(scales4(blk, 18), v128.load(xd + (<usize>b << 2)))));
  }
  let tail: f32 = 0;
  for (; b < nb; b++) {
    const blk = w + <usize>b * 18;
    tail += <f32>hsumI(nlBlock(blk, xq + (<usize>b << 5))) * loadF16(blk) * load<f32>(xd + (<usize>b << 2));
  }
  return hsumF(acc) + tail;
}

@inline function nlTok(acc: v128, lo: v128, hi: v128, a: usize, s: v128): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(dot32(lo, hi, a)), s));
}

/** The row's f32 block scales at ds (formats-q8x4.ts prepScales). */
export function rowPrep4_iq4_nl(w: usize, nb: i32, ds: usize): void {
  prepScales(w, nb, 18, ds);
}

export function rowdotq4_iq4_nl(w: usize, x: usize, stride: usize, dOff: usize, _sOff: usize, nb: i32,
  out: usize, os: usize, ds: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 18;
    const q = v128.load(blk + 2);
    const lo = v128.and(q, LO4);
    const hi = hiNib(q);
    const d = v128.load32_splat(ds + (<usize>b << 2));
    const o = <usize>b << 5;
    const so = dOff + (<usize>b << 2);
    a0 = nlTok(a0, lo, hi, x + o, f32x4.mul(d, v128.load32_splat(x + so)));
    a1 = nlTok(a1, lo, hi, x1 + o, f32x4.mul(d, v128.load32_splat(x1 + so)));
    a2 = nlTok(a2, lo, hi, x2 + o, f32x4.mul(d, v128.load32_splat(x2 + so)));
    a3 = nlTok(a3, lo, hi, x3 + o, f32x4.mul(d, v128.load32_splat(x3 + so)));
  }
  store4(out, os, hsumF(a0), hsumF(a1), hsumF(a2), hsumF(a3));
}

// iq4_xs (qb 256): f16 d, u16 scales_h, scales_l[4], qs[128]; sub-block j: d·(ls_j − 32)·level

/**
 * The eight signed sub-block scales ls_j − 32 of the block at blk as i16x8. Per-lane shifts by
 * multiplication: lane j's scales_l byte × 16 (j even) or × 1, >> 4, keeps its nibble j&1;
 * scales_h × 2^(14−2j) (mod 2^16), >> 14, keeps its bits 2j, 2j+1.
 */
@inline function xsScales(blk: usize): v128 {
  const v = v128.load64_zero(blk);
  const l = i8x16.swizzle(v, i8x16(4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1));
  const low = v128.and(i16x8.shr_u(i16x8.mul(l, i16x8(16, 1, 16, 1, 16, 1, 16, 1)), 4), i16x8.splat(15));
  const h = i16x8.shuffle(v, v, 1, 1, 1, 1, 1, 1, 1, 1);
  const high = i16x8.shl(i16x8.shr_u(i16x8.mul(h, i16x8(16384, 4096, 1024, 256, 64, 16, 4, 1)), 14), 4);
  return i16x8.sub(v128.or(low, high), i16x8.splat(32));
}

/** Lane 0 of s in every lane. */
@inline function lane0(s: v128): v128 {
  return i16x8.shuffle(s, s, 0, 0, 0, 0, 0, 0, 0, 0);
}

/** s with its lanes moved down by one (the next sub-block's scale into lane 0). A loop-carried
 *  vector, so the scale decode stays out of the sub-block loop (TurboFan otherwise redoes it per
 *  sub-block) and no runtime-index swizzle is needed. */
@inline function nextLane(s: v128): v128 {
  return i16x8.shuffle(s, s, 1, 2, 3, 4, 5, 6, 7, 0);
}

/** acc + sc · Σ level·a over one sub-block (nibble indices lo, hi) and its 32 activations at a;
 *  two dot_i16x8_s, as one i16 lane holds at most two signed products. */
@inline function xsSub(acc: v128, lo: v128, hi: v128, a: usize, sc: v128): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(levelDot(lo, a), sc));
  return i32x4.add(acc, i32x4.dot_i16x8_s(levelDot(hi, a + 16), sc));
}

export function rowdotq_iq4_xs(w: usize, xq: usize, xd: usize, _xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 136;
    const a = xq + (<usize>b << 8);
    let s16 = xsScales(blk);
    let isum = i32x4.splat(0);
    for (let j: usize = 0; j < 8; j++) {
      const q = v128.load(blk + 8 + (j << 4));
      isum = xsSub(isum, v128.and(q, LO4), hiNib(q), a + (j << 5), lane0(s16));
      s16 = nextLane(s16);
    }
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(loadF16(blk) * load<f32>(xd + (<usize>b << 2)))));
  }
  return hsumF(acc);
}

@inline function xsTok(acc: v128, lo: v128, hi: v128, a: usize, sc: v128, out: usize): v128 {
  acc = xsSub(acc, lo, hi, a, sc);
  pin(out, acc);
  return acc;
}

@inline function xsDone(acc: v128, isum: v128, s: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(s)));
}

/** Sub-block-major, as the k-quant tiles: each sub-block's indices and scale are made once for the
 *  four tokens (the table lookups are the same pure ops for each token: left to the engine's CSE). */
export function rowdotq4_iq4_xs(w: usize, x: usize, stride: usize, dOff: usize, _sOff: usize, nb: i32,
  out: usize, os: usize, _ds: usize): void {
  let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
  const x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
  for (let b = 0; b < nb; b++) {
    const blk = w + <usize>b * 136;
    let s16 = xsScales(blk);
    let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
    for (let j: usize = 0; j < 8; j++) {
      const q = v128.load(blk + 8 + (j << 4));
      const lo = v128.and(q, LO4);
      const hi = hiNib(q);
      const sc = lane0(s16);
      s16 = nextLane(s16);
      const a = (<usize>b << 8) + (j << 5);
      i0 = xsTok(i0, lo, hi, x + a, sc, out);
      i1 = xsTok(i1, lo, hi, x1 + a, sc, out);
      i2 = xsTok(i2, lo, hi, x2 + a, sc, out);
      i3 = xsTok(i3, lo, hi, x3 + a, sc, out);
    }
    const d = loadF16(blk);
    f0 = xsDone(f0, i0, d * scaleOf(x, dOff, b));
    f1 = xsDone(f1, i1, d * scaleOf(x1, dOff, b));
    f2 = xsDone(f2, i2, d * scaleOf(x2, dOff, b));
    f3 = xsDone(f3, i3, d * scaleOf(x3, dOff, b));
  }
  store4(out, os, hsumF(f0), hsumF(f1), hsumF(f2), hsumF(f3));
}
