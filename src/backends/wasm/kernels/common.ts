// Shared helpers for the kernels: half-float conversion and f32x4 dot products.
// All pointers are byte addresses into the one (possibly shared) linear memory.

/** 2^-24: one f16 subnormal step. */
const F16_TINY: f32 = 5.9604644775390625e-8;

// f16 → f32 never computes with an f32 denormal: x86 takes a microcode assist (~100 cycles) on
// each, and k-quant super-block scales are often f16 subnormals (every q6_k d of a model whose
// weights are ~0.02). Normals are rebiased in the integer domain, subnormals converted from
// their integer mantissa (exact: m·2^-24 is a normal f32).

/** f16 bits → f32 (exact, incl. subnormals, inf and NaN). */
@inline export function f16ToF32(h: u32): f32 {
  const mag = h & 0x7fff;
  const normal = select<u32>((mag << 13) | 0x7f800000, (mag << 13) + (112 << 23), mag >= 0x7c00);
  const bits = select<u32>(normal, reinterpret<u32>(<f32>mag * F16_TINY), mag >= 0x0400);
  return reinterpret<f32>(bits | ((h & 0x8000) << 16));
}

/** Little-endian f16 at `p`, as f32. */
@inline export function loadF16(p: usize): f32 {
  return f16ToF32(<u32>load<u16>(p));
}

/** Four f16 at `p` → f32x4. */
@inline export function loadF16x4(p: usize): v128 {
  return f16x4ToF32(v128.load16x4_u(p));
}

/** Four f16 bit patterns (the low halves of i32x4 lanes, high halves zero) → f32x4, as f16ToF32. */
@inline export function f16x4ToF32(h: v128): v128 {
  const mag = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(mag, 13);
  const normal = v128.bitselect(v128.or(shifted, i32x4.splat(0x7f800000)), i32x4.add(shifted, i32x4.splat(112 << 23)),
    i32x4.gt_s(mag, i32x4.splat(0x7bff)));
  const sub = f32x4.mul(f32x4.convert_i32x4_s(mag), f32x4.splat(F16_TINY));
  const v = v128.bitselect(normal, sub, i32x4.gt_s(mag, i32x4.splat(0x03ff)));
  return v128.or(v, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** f32 → f16 bits, round to nearest even; overflow → ±inf, NaN stays NaN. */
export function f32ToF16(f: f32): u32 {
  const x = reinterpret<u32>(f);
  const sign = (x >> 16) & 0x8000;
  const ax = x & 0x7fffffff;
  if (ax > 0x7f800000) return sign | 0x7e00 | ((ax >> 13) & 0x3ff);
  if (ax >= 0x477ff000) return sign | 0x7c00;
  if (ax < 0x38800000) {
    // below the smallest normal: the result is round(value · 2^24) subnormal units (exact product).
    return sign | <u32>nearest<f32>(reinterpret<f32>(ax) * 16777216.0);
  }
  let h = (((ax >> 23) - 112) << 10) | ((ax >> 13) & 0x3ff);
  const rem = ax & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) h++;
  return sign | h;
}

/** Four f32 → f16 bits as f32ToF16, in the low four i16 lanes (branch-free, for storeRows). */
@inline export function f32x4ToF16(v: v128): v128 {
  const ax = v128.and(v, i32x4.splat(0x7fffffff));
  const m13 = i32x4.shr_u(ax, 13);
  // normal: exponent rebiased by subtraction; + 0xfff + the kept lsb rounds to nearest even (a
  // carry may reach the exponent)
  const normal = i32x4.shr_u(i32x4.add(i32x4.sub(ax, i32x4.splat(112 << 23)),
    i32x4.add(i32x4.splat(0x0fff), v128.and(m13, i32x4.splat(1)))), 13);
  const sub = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(ax, f32x4.splat(16777216.0))));
  let h = v128.bitselect(sub, normal, i32x4.lt_s(ax, i32x4.splat(0x38800000)));
  h = v128.bitselect(i32x4.splat(0x7c00), h, i32x4.gt_s(ax, i32x4.splat(0x477fefff)));
  h = v128.bitselect(v128.or(i32x4.splat(0x7e00), v128.and(m13, i32x4.splat(0x3ff))), h, i32x4.gt_s(ax, i32x4.splat(0x7f800000)));
  h = v128.or(h, v128.and(i32x4.shr_u(v, 16), i32x4.splat(0x8000)));
  return i16x8.narrow_i32x4_u(h, h);
}

@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** sum a[i]·b[i] over n f32. */
export function dotF32(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = hsum(acc);
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** sum a[i]·h[i] over n, a f32 and h f16. */
export function dotF32F16(a: usize, h: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>i << 2)), loadF16x4(h + (<usize>i << 1))));
  }
  let s = hsum(acc);
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * loadF16(h + (<usize>i << 1));
  return s;
}

/** y[i] += w · x[i] over n f32. */
export function axpyF32(y: usize, x: usize, w: f32, n: i32): void {
  const wv = f32x4.splat(w);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(wv, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + w * load<f32>(x + o));
  }
}

/** y[i] += w · h[i] over n, h f16. */
export function axpyF16(y: usize, h: usize, w: f32, n: i32): void {
  const wv = f32x4.splat(w);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(wv, loadF16x4(h + (<usize>i << 1)))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + w * loadF16(h + (<usize>i << 1)));
  }
}

// q8_0 KV rows: llama.cpp's block_q8_0, 34 bytes per 32 values (f16 scale d, then 32 int8 q),
// value = d·q (src/quant/q8_0.ts states the layout).
export const Q8_BLOCK_BYTES: usize = 34;

/** Eight int8 at p → two f32x4 (values 0..3, 4..7). */
@inline function q8x8(p: usize): v128 {
  return i16x8.extend_low_i8x16_s(v128.load64_zero(p));
}

/** sum a[i]·x[i] over nBlocks q8_0 blocks at x (a f32). */
export function dotF32Q8(a: usize, x: usize, nBlocks: i32): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nBlocks; b++) {
    const blk = x + <usize>b * Q8_BLOCK_BYTES;
    const ab = a + (<usize>b << 7);
    let s = f32x4.splat(0);
    for (let i = 0; i < 32; i += 8) {
      const w = q8x8(blk + 2 + <usize>i);
      const o = ab + (<usize>i << 2);
      s = f32x4.add(s, f32x4.mul(v128.load(o), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w))));
      s = f32x4.add(s, f32x4.mul(v128.load(o + 16), f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w))));
    }
    acc = f32x4.add(acc, f32x4.mul(s, f32x4.splat(loadF16(blk))));
  }
  return hsum(acc);
}

/** y[i] += w · x[i] over nBlocks q8_0 blocks at x. */
export function axpyQ8(y: usize, x: usize, w: f32, nBlocks: i32): void {
  for (let b = 0; b < nBlocks; b++) {
    const blk = x + <usize>b * Q8_BLOCK_BYTES;
    const yb = y + (<usize>b << 7);
    const wv = f32x4.splat(w * loadF16(blk));
    for (let i = 0; i < 32; i += 8) {
      const q = q8x8(blk + 2 + <usize>i);
      const o = yb + (<usize>i << 2);
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q)))));
      v128.store(o + 16, f32x4.add(v128.load(o + 16), f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q)))));
    }
  }
}

/** Four f32 → int32, rounded half away from zero (C's roundf, as quantize_row_q8_0_ref). */
@inline function roundAway4(v: v128): v128 {
  const t = f32x4.trunc(v);
  const up = f32x4.ge(f32x4.abs(f32x4.sub(v, t)), f32x4.splat(0.5));
  // ±1 with v's sign where the fraction is at least one half
  const step = v128.and(up, v128.or(v128.and(v, i32x4.splat(0x80000000)), f32x4.splat(1)));
  return i32x4.trunc_sat_f32x4_s(f32x4.add(t, step));
}

/** nBlocks × 32 f32 at src → q8_0 blocks at dst, exactly quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d). */
export function quantizeQ8Blocks(src: usize, dst: usize, nBlocks: i32): void {
  for (let b = 0; b < nBlocks; b++) {
    const x = src + (<usize>b << 7);
    const blk = dst + <usize>b * Q8_BLOCK_BYTES;
    let m = f32x4.splat(0);
    for (let i = 0; i < 32; i += 4) m = f32x4.max(m, f32x4.abs(v128.load(x + (<usize>i << 2))));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const d: f32 = amax / 127;
    const id = f32x4.splat(d != 0 ? <f32>1 / d : 0);
    store<u16>(blk, <u16>f32ToF16(d));
    for (let i = 0; i < 32; i += 16) {
      const o = x + (<usize>i << 2);
      const a = roundAway4(f32x4.mul(v128.load(o), id));
      const bb = roundAway4(f32x4.mul(v128.load(o + 16), id));
      const c = roundAway4(f32x4.mul(v128.load(o + 32), id));
      const e = roundAway4(f32x4.mul(v128.load(o + 48), id));
      v128.store(blk + 2 + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, bb), i16x8.narrow_i32x4_s(c, e)));
    }
  }
}
