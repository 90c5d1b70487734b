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
