// One snippet per GGUF block format: `deqBlock_<id>(src, dst)` expands one block at `src` into
// blockSize f32 at `dst` (llama.cpp layouts, see src/quant/<id>.ts). Formats whose build-table entry
// has group > 1 also provide `deqGroup_<id>` for `group` blocks at once (SIMD over tiny blocks).
// The build script wraps these in the per-format matmul/dequant template.
import { loadF16, loadF16x4 } from './common';

const LO4 = i8x16.splat(0x0f);

/** 16 signed bytes → 16 f32 as q·d + m. */
@inline function store16(dst: usize, q: v128, d: v128, m: v128): void {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d), m));
  v128.store(dst + 16, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d), m));
  v128.store(dst + 32, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d), m));
  v128.store(dst + 48, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d), m));
}

/** 16 signed bytes → 16 f32 as q·d. */
@inline function store16s(dst: usize, q: v128, d: f32): void {
  const dv = f32x4.splat(d);
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), dv));
  v128.store(dst + 16, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), dv));
  v128.store(dst + 32, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), dv));
  v128.store(dst + 48, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), dv));
}

// ---- plain floats (blockSize 1) ----

@inline export function deqBlock_f32(src: usize, dst: usize): void {
  store<f32>(dst, load<f32>(src));
}
@inline export function deqGroup_f32(src: usize, dst: usize): void {
  v128.store(dst, v128.load(src));
}

@inline export function deqBlock_f16(src: usize, dst: usize): void {
  store<f32>(dst, loadF16(src));
}
@inline export function deqGroup_f16(src: usize, dst: usize): void {
  v128.store(dst, loadF16x4(src));
}

@inline export function deqBlock_bf16(src: usize, dst: usize): void {
  store<u32>(dst, <u32>load<u16>(src) << 16);
}
@inline export function deqGroup_bf16(src: usize, dst: usize): void {
  v128.store(dst, i32x4.shl(v128.load16x4_u(src), 16));
}

// ---- 32-value blocks ----

// q8_0: f16 d, i8 qs[32]
@inline export function deqBlock_q8_0(src: usize, dst: usize): void {
  const d = loadF16(src);
  store16s(dst, v128.load(src + 2), d);
  store16s(dst + 64, v128.load(src + 18), d);
}

// q4_0: f16 d, qs[16]; byte j = element j (low nibble) and j+16 (high nibble); value (q-8)·d
@inline export function deqBlock_q4_0(src: usize, dst: usize): void {
  const d = loadF16(src);
  const q = v128.load(src + 2);
  const eight = i8x16.splat(8);
  store16s(dst, i8x16.sub(v128.and(q, LO4), eight), d);
  store16s(dst + 64, i8x16.sub(i8x16.shr_u(q, 4), eight), d);
}

// q4_1: f16 d, f16 m, qs[16]; value q·d + m
@inline export function deqBlock_q4_1(src: usize, dst: usize): void {
  const d = f32x4.splat(loadF16(src));
  const m = f32x4.splat(loadF16(src + 2));
  const q = v128.load(src + 4);
  store16(dst, v128.and(q, LO4), d, m);
  store16(dst + 64, i8x16.shr_u(q, 4), d, m);
}

/** Bit j of the 32-bit qh (j = 0..31) as 0x10 in byte lane j of two vectors (low: 0..15, high: 16..31). */
@inline export function q5HighBits(qh: u32, half: u32): v128 {
  const bytes = i32x4.splat(qh >> (half * 16));
  // lane j reads byte j>>3 of the 16 bits, then tests bit j&7
  const spread = i8x16.swizzle(bytes, i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
  const bits = v128.and(spread, i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128));
  return v128.and(v128.not(i8x16.eq(bits, i8x16.splat(0))), i8x16.splat(0x10));
}

// q5_0: f16 d, u32 qh, qs[16]; 5-bit q = nibble | (bit j of qh) << 4; value (q-16)·d
@inline export function deqBlock_q5_0(src: usize, dst: usize): void {
  const d = loadF16(src);
  const qh = load<u32>(src + 2);
  const q = v128.load(src + 6);
  const sixteen = i8x16.splat(16);
  store16s(dst, i8x16.sub(v128.or(v128.and(q, LO4), q5HighBits(qh, 0)), sixteen), d);
  store16s(dst + 64, i8x16.sub(v128.or(i8x16.shr_u(q, 4), q5HighBits(qh, 1)), sixteen), d);
}

// q5_1: f16 d, f16 m, u32 qh, qs[16]; value q·d + m
@inline export function deqBlock_q5_1(src: usize, dst: usize): void {
  const d = f32x4.splat(loadF16(src));
  const m = f32x4.splat(loadF16(src + 2));
  const qh = load<u32>(src + 4);
  const q = v128.load(src + 8);
  store16(dst, v128.or(v128.and(q, LO4), q5HighBits(qh, 0)), d, m);
  store16(dst + 64, v128.or(i8x16.shr_u(q, 4), q5HighBits(qh, 1)), d, m);
}

// ---- 256-value k-quants ----

// q2_k: scales[16] (lo nibble scale, hi nibble min), qs[64], f16 d, f16 dmin.
// Each 128-value half reads 32 bytes of qs four times (2-bit shifts 0,2,4,6); 16 values per scale.
@inline export function deqBlock_q2_k(src: usize, dst: usize): void {
  const d = loadF16(src + 80);
  const dmin = loadF16(src + 82);
  const three = i8x16.splat(3);
  for (let n: usize = 0; n < 2; n++) {
    const q0 = v128.load(src + 16 + n * 32);
    const q1 = v128.load(src + 32 + n * 32);
    for (let j: u32 = 0; j < 4; j++) {
      const is = src + n * 8 + j * 2;
      const sa = <u32>load<u8>(is);
      const sb = <u32>load<u8>(is + 1);
      const y = dst + ((n * 128 + j * 32) << 2);
      store16(y, v128.and(i8x16.shr_u(q0, j * 2), three), f32x4.splat(d * <f32>(sa & 0xf)), f32x4.splat(-(dmin * <f32>(sa >> 4))));
      store16(y + 64, v128.and(i8x16.shr_u(q1, j * 2), three), f32x4.splat(d * <f32>(sb & 0xf)), f32x4.splat(-(dmin * <f32>(sb >> 4))));
    }
  }
}

/** 6-bit signed scale j (0..15) of a q3_K block: 4 low bits + 2 high bits, minus 32. */
@inline function q3Scale(sc: usize, j: u32): i32 {
  const lo = j < 8 ? <u32>load<u8>(sc + j) & 0xf : <u32>load<u8>(sc + j - 8) >> 4;
  const hi = (<u32>load<u8>(sc + 8 + (j & 3)) >> (2 * (j >> 2))) & 3;
  return <i32>(lo | (hi << 4)) - 32;
}

// q3_k: hmask[32], qs[64], scales[12], f16 d. Like q2_k, minus 4 where the hmask bit is clear;
// hmask bit (4n + j) serves half n, shift step j.
@inline export function deqBlock_q3_k(src: usize, dst: usize): void {
  const d = loadF16(src + 108);
  const three = i8x16.splat(3);
  const four = i8x16.splat(4);
  const zero = i8x16.splat(0);
  const hm0 = v128.load(src);
  const hm1 = v128.load(src + 16);
  for (let n: u32 = 0; n < 2; n++) {
    const q0 = v128.load(src + 32 + n * 32);
    const q1 = v128.load(src + 48 + n * 32);
    for (let j: u32 = 0; j < 4; j++) {
      const bit: u32 = 1 << (4 * n + j);
      const m = i8x16.splat(<i8>bit);
      const y = dst + ((n * 128 + j * 32) << 2);
      const s0 = <f32>q3Scale(src + 96, 8 * n + 2 * j) * d;
      const s1 = <f32>q3Scale(src + 96, 8 * n + 2 * j + 1) * d;
      const a = i8x16.sub(v128.and(i8x16.shr_u(q0, j * 2), three), v128.and(i8x16.eq(v128.and(hm0, m), zero), four));
      const b = i8x16.sub(v128.and(i8x16.shr_u(q1, j * 2), three), v128.and(i8x16.eq(v128.and(hm1, m), zero), four));
      store16s(y, a, s0);
      store16s(y + 64, b, s1);
    }
  }
}

/** Packed 6-bit scale (which = 0) or min (which = 4) of sub-block j (0..7) in q4_K/q5_K. */
@inline export function kScaleMin(sc: usize, j: u32, which: u32): u32 {
  if (j < 4) return <u32>load<u8>(sc + j + which) & 63;
  const lo = which == 0 ? <u32>load<u8>(sc + j + 4) & 0xf : <u32>load<u8>(sc + j + 4) >> 4;
  return lo | ((<u32>load<u8>(sc + j - 4 + which) >> 6) << 4);
}

// q4_k: f16 d, f16 dmin, scales[12], qs[128]; 32 bytes per 64 values (low nibbles, then high).
@inline export function deqBlock_q4_k(src: usize, dst: usize): void {
  const d = loadF16(src);
  const dmin = loadF16(src + 2);
  for (let c: u32 = 0; c < 4; c++) {
    const y = dst + (<usize>c << 8);
    for (let k: u32 = 0; k < 2; k++) {
      const j = 2 * c + k;
      const dv = f32x4.splat(d * <f32>kScaleMin(src + 4, j, 0));
      const mv = f32x4.splat(-(dmin * <f32>kScaleMin(src + 4, j, 4)));
      for (let h: u32 = 0; h < 2; h++) {
        const q = v128.load(src + 16 + c * 32 + h * 16);
        store16(y + k * 128 + h * 64, k == 0 ? v128.and(q, LO4) : i8x16.shr_u(q, 4), dv, mv);
      }
    }
  }
}

// q5_k: f16 d, f16 dmin, scales[12], qh[32], qs[128]; qh bit (2c + k) adds 16 to sub-block 2c + k.
@inline export function deqBlock_q5_k(src: usize, dst: usize): void {
  const d = loadF16(src);
  const dmin = loadF16(src + 2);
  const one = i8x16.splat(1);
  for (let c: u32 = 0; c < 4; c++) {
    const y = dst + (<usize>c << 8);
    for (let k: u32 = 0; k < 2; k++) {
      const j = 2 * c + k;
      const dv = f32x4.splat(d * <f32>kScaleMin(src + 4, j, 0));
      const mv = f32x4.splat(-(dmin * <f32>kScaleMin(src + 4, j, 4)));
      for (let h: u32 = 0; h < 2; h++) {
        const q = v128.load(src + 48 + c * 32 + h * 16);
        const hb = i8x16.shl(v128.and(i8x16.shr_u(v128.load(src + 16 + h * 16), j), one), 4);
        store16(y + k * 128 + h * 64, v128.or(k == 0 ? v128.and(q, LO4) : i8x16.shr_u(q, 4), hb), dv, mv);
      }
    }
  }
}

// q6_k: ql[128], qh[64], i8 scales[16], f16 d. Per 128-value half: ql 64 bytes, qh 32 bytes;
// value l + 32k takes nibble (k&1 ? ql[l+32] : ql[l]) >> (4·(k>>1)) and qh bits 2k..2k+1, minus 32.
@inline export function deqBlock_q6_k(src: usize, dst: usize): void {
  const d = loadF16(src + 208);
  const three = i8x16.splat(3);
  const m32 = i8x16.splat(32);
  for (let n: u32 = 0; n < 2; n++) {
    const ql = src + n * 64;
    const qh = src + 128 + n * 32;
    const sc = src + 192 + n * 8;
    for (let h: u32 = 0; h < 2; h++) {
      const l0 = v128.load(ql + h * 16);
      const l1 = v128.load(ql + 32 + h * 16);
      const hv = v128.load(qh + h * 16);
      for (let k: u32 = 0; k < 4; k++) {
        const lv = (k & 1) != 0 ? l1 : l0;
        const nib = k < 2 ? v128.and(lv, LO4) : i8x16.shr_u(lv, 4);
        const q = i8x16.sub(v128.or(nib, i8x16.shl(v128.and(i8x16.shr_u(hv, 2 * k), three), 4)), m32);
        const s = d * <f32>load<i8>(sc + h + 2 * k);
        store16s(dst + ((n * 128 + k * 32 + h * 16) << 2), q, s);
      }
    }
  }
}

// ---- non-linear 4-bit: nibbles index kvalues_iq4nl (src/quant/iq4-search.ts) ----

/** The 16 levels of an IQ4 nibble, for i8x16.swizzle (indices 0..15 only, so no lane reads 0). */
export const IQ4_LEVELS = i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

// iq4_nl: f16 d, qs[16] (element j low nibble, j+16 high, as q4_0); value d·level
@inline export function deqBlock_iq4_nl(src: usize, dst: usize): void {
  const d = loadF16(src);
  const q = v128.load(src + 2);
  store16s(dst, i8x16.swizzle(IQ4_LEVELS, v128.and(q, LO4)), d);
  store16s(dst + 64, i8x16.swizzle(IQ4_LEVELS, i8x16.shr_u(q, 4)), d);
}

// iq4_xs: f16 d, u16 scales_h, scales_l[4], qs[128]; sub-block j of 32 (16 qs bytes, as iq4_nl)
// has the 6-bit scale ls_j (nibble j&1 of scales_l[j>>1], bits 2j of scales_h); value d·(ls_j−32)·level
@inline export function deqBlock_iq4_xs(src: usize, dst: usize): void {
  const d = loadF16(src);
  const h = <u32>load<u16>(src + 2);
  for (let j: u32 = 0; j < 8; j++) {
    const ls = ((<u32>load<u8>(src + 4 + (j >> 1)) >> (4 * (j & 1))) & 0xf) | (((h >> (2 * j)) & 3) << 4);
    const dl = d * <f32>(<i32>ls - 32);
    const q = v128.load(src + 8 + 16 * j);
    store16s(dst + (j << 7), i8x16.swizzle(IQ4_LEVELS, v128.and(q, LO4)), dl);
    store16s(dst + (j << 7) + 64, i8x16.swizzle(IQ4_LEVELS, i8x16.shr_u(q, 4)), dl);
  }
}

export { deqBlock_mlc_q4f16, deqBlock_mlc_q4f32 } from './formats-mlc';
