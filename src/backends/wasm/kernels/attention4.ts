// Prefill attention, four query tokens of one head at a time (ops.ts attention calls it): each
// key and value row is read, and converted from f16 / q8_0, once for the four. A token's sums
// are the one-token path's (dotF32 / dotF32F16 / dotF32Q8, axpy*), in the same order, so a
// token's output is the same bit for bit; keys outside its causal / window range get weight 0.
import { hsum, loadF16, loadF16x4, Q8_BLOCK_BYTES } from './common';

export const KV_F16 = 1;
export const KV_Q8_0 = 2;

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** Eight int8 at p as i16x8 (as common.ts q8x8). */
@inline function q8x8(p: usize): v128 {
  return i16x8.extend_low_i8x16_s(v128.load64_zero(p));
}

/** [q_t · k for t < 4]: query rows q, q + qs, … against the key row at kp (hd values of type kt). */
@inline function scores4(q: usize, qs: usize, kp: usize, hd: i32, kt: i32): v128 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const q1 = q + qs, q2 = q1 + qs, q3 = q2 + qs;
  if (kt == KV_Q8_0) {
    for (let b = 0; b < hd >> 5; b++) {
      const blk = kp + <usize>b * Q8_BLOCK_BYTES;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let i: usize = 0; i < 32; i += 8) {
        const w = q8x8(blk + 2 + i);
        const lo = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w));
        const hi = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w));
        const o = (<usize>b << 7) + (i << 2);
        s0 = madd(madd(s0, v128.load(q + o), lo), v128.load(q + o + 16), hi);
        s1 = madd(madd(s1, v128.load(q1 + o), lo), v128.load(q1 + o + 16), hi);
        s2 = madd(madd(s2, v128.load(q2 + o), lo), v128.load(q2 + o + 16), hi);
        s3 = madd(madd(s3, v128.load(q3 + o), lo), v128.load(q3 + o + 16), hi);
      }
      const d = f32x4.splat(loadF16(blk));
      a0 = madd(a0, s0, d); a1 = madd(a1, s1, d); a2 = madd(a2, s2, d); a3 = madd(a3, s3, d);
    }
  } else {
    for (let i = 0; i < hd; i += 4) {
      const k = kt == KV_F16 ? loadF16x4(kp + (<usize>i << 1)) : v128.load(kp + (<usize>i << 2));
      const o = <usize>i << 2;
      a0 = madd(a0, v128.load(q + o), k);
      a1 = madd(a1, v128.load(q1 + o), k);
      a2 = madd(a2, v128.load(q2 + o), k);
      a3 = madd(a3, v128.load(q3 + o), k);
    }
  }
  let s = f32x4.splat(hsum(a0));
  s = f32x4.replace_lane(s, 1, hsum(a1));
  s = f32x4.replace_lane(s, 2, hsum(a2));
  return f32x4.replace_lane(s, 3, hsum(a3));
}

/** out_t += pr_t · (the value row at vp) for the four output rows out, out + os, … */
@inline function axpy4(out: usize, os: usize, vp: usize, pr: v128, hd: i32, kt: i32): void {
  const o1 = out + os, o2 = o1 + os, o3 = o2 + os;
  if (kt == KV_Q8_0) {
    for (let b = 0; b < hd >> 5; b++) {
      const blk = vp + <usize>b * Q8_BLOCK_BYTES;
      const w = f32x4.mul(pr, f32x4.splat(loadF16(blk)));
      const w0 = f32x4.splat(f32x4.extract_lane(w, 0)), w1 = f32x4.splat(f32x4.extract_lane(w, 1));
      const w2 = f32x4.splat(f32x4.extract_lane(w, 2)), w3 = f32x4.splat(f32x4.extract_lane(w, 3));
      for (let i: usize = 0; i < 32; i += 8) {
        const q = q8x8(blk + 2 + i);
        const lo = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q));
        const hi = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q));
        const o = (<usize>b << 7) + (i << 2);
        v128.store(out + o, madd(v128.load(out + o), w0, lo)); v128.store(out + o + 16, madd(v128.load(out + o + 16), w0, hi));
        v128.store(o1 + o, madd(v128.load(o1 + o), w1, lo)); v128.store(o1 + o + 16, madd(v128.load(o1 + o + 16), w1, hi));
        v128.store(o2 + o, madd(v128.load(o2 + o), w2, lo)); v128.store(o2 + o + 16, madd(v128.load(o2 + o + 16), w2, hi));
        v128.store(o3 + o, madd(v128.load(o3 + o), w3, lo)); v128.store(o3 + o + 16, madd(v128.load(o3 + o + 16), w3, hi));
      }
    }
    return;
  }
  const w0 = f32x4.splat(f32x4.extract_lane(pr, 0)), w1 = f32x4.splat(f32x4.extract_lane(pr, 1));
  const w2 = f32x4.splat(f32x4.extract_lane(pr, 2)), w3 = f32x4.splat(f32x4.extract_lane(pr, 3));
  for (let i = 0; i < hd; i += 4) {
    const v = kt == KV_F16 ? loadF16x4(vp + (<usize>i << 1)) : v128.load(vp + (<usize>i << 2));
    const o = <usize>i << 2;
    v128.store(out + o, madd(v128.load(out + o), w0, v));
    v128.store(o1 + o, madd(v128.load(o1 + o), w1, v));
    v128.store(o2 + o, madd(v128.load(o2 + o), w2, v));
    v128.store(o3 + o, madd(v128.load(o3 + o), w3, v));
  }
}

/** exp(e) of one lane, 0 where e < −80 (the one-token path skips those keys). */
@inline function weight(e: f32): f32 {
  return e < -80 ? 0 : Mathf.exp(e);
}

/**
 * Query tokens t..t + 3 of head h (rows at q, out, os bytes apart; positions p..p + 3) over the
 * keys j0..p + 3 at kc / vc (rows rowBytes apart, ring of `slots`, head at kvOff), j0 the first key
 * of token t; token k's own range starts at lo_k. hd % 4 == 0. scratch: (p + 4 − j0) f32x4.
 */
export function attend4(q: usize, out: usize, os: usize, kc: usize, vc: usize, kvOff: usize, rowBytes: usize,
  p: i32, window: i32, slots: i32, hd: i32, kt: i32, scale: f32, cap: f32, scratch: usize): void {
  const lo = window > 0 ? i32x4.max_s(i32x4.add(i32x4.splat(p - window + 1), i32x4(0, 1, 2, 3)), i32x4.splat(0)) : i32x4.splat(0);
  const hi = i32x4.add(i32x4.splat(p), i32x4(0, 1, 2, 3));
  const j0 = i32x4.extract_lane(lo, 0);
  const n = p + 4 - j0;
  const none = f32x4.splat(-Infinity);
  let mx = none;
  for (let jj = 0; jj < n; jj++) {
    const j = j0 + jj;
    let s = f32x4.mul(scores4(q, os, kc + <usize>(j % slots) * rowBytes + kvOff, hd, kt), f32x4.splat(scale));
    if (cap > 0) {
      s = f32x4.replace_lane(s, 0, cap * Mathf.tanh(f32x4.extract_lane(s, 0) / cap));
      s = f32x4.replace_lane(s, 1, cap * Mathf.tanh(f32x4.extract_lane(s, 1) / cap));
      s = f32x4.replace_lane(s, 2, cap * Mathf.tanh(f32x4.extract_lane(s, 2) / cap));
      s = f32x4.replace_lane(s, 3, cap * Mathf.tanh(f32x4.extract_lane(s, 3) / cap));
    }
    const jv = i32x4.splat(j);
    s = v128.bitselect(s, none, v128.and(i32x4.ge_s(jv, lo), i32x4.le_s(jv, hi)));
    v128.store(scratch + (<usize>jj << 4), s);
    mx = f32x4.max(mx, s);
  }
  for (let k = 0; k < 4; k++) memory.fill(out + <usize>k * os, 0, <usize>hd << 2);
  let sum = f32x4.splat(0);
  for (let jj = 0; jj < n; jj++) {
    const e = f32x4.sub(v128.load(scratch + (<usize>jj << 4)), mx);
    if (i32x4.all_true(f32x4.lt(e, f32x4.splat(-80)))) continue;
    let pr = f32x4.splat(weight(f32x4.extract_lane(e, 0)));
    pr = f32x4.replace_lane(pr, 1, weight(f32x4.extract_lane(e, 1)));
    pr = f32x4.replace_lane(pr, 2, weight(f32x4.extract_lane(e, 2)));
    pr = f32x4.replace_lane(pr, 3, weight(f32x4.extract_lane(e, 3)));
    sum = f32x4.add(sum, pr);
    axpy4(out, os, vc + <usize>((j0 + jj) % slots) * rowBytes + kvOff, pr, hd, kt);
  }
  scaleRow(out, 1 / f32x4.extract_lane(sum, 0), hd);
  scaleRow(out + os, 1 / f32x4.extract_lane(sum, 1), hd);
  scaleRow(out + 2 * os, 1 / f32x4.extract_lane(sum, 2), hd);
  scaleRow(out + 3 * os, 1 / f32x4.extract_lane(sum, 3), hd);
}

@inline function scaleRow(ov: usize, inv: f32, hd: i32): void {
  const v = f32x4.splat(inv);
  for (let d = 0; d < hd; d += 4) v128.store(ov + (<usize>d << 2), f32x4.mul(v128.load(ov + (<usize>d << 2)), v));
}
