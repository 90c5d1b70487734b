// IEEE half (f16) and bfloat16 conversions, bit-exact with ggml's scalar converters:
// f32 → f16 and f32 → bf16 round to nearest, ties to even; NaNs stay (quiet) NaNs.

const f32Buf = new Float32Array(1);
const u32Buf = new Uint32Array(f32Buf.buffer);

/** Bits of `x` rounded to f32 (JS numbers are f64; callers pass f32 values). */
export function f32Bits(x: number): number {
  f32Buf[0] = x;
  return u32Buf[0];
}

function bitsToF32(bits: number): number {
  u32Buf[0] = bits >>> 0;
  return f32Buf[0];
}

/** Round the low `shift` bits away from `m`, ties to even (shift in 1..24). */
function roundShift(m: number, shift: number): number {
  const q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

/** f32 → f16 bits (round to nearest even; overflow → ±inf; subnormals kept). */
export function f32ToF16(x: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // f16 subnormal: value / 2^-24, rounded; a carry into bit 10 correctly yields the smallest normal.
    const shift = 14 - e;
    return shift > 24 ? sign : sign | roundShift(mant | 0x800000, shift);
  }
  // A carry out of the mantissa bumps the exponent (up to inf), which is exactly right.
  return sign | roundShift((e << 23) | mant, 13);
}

/** f16 bits → f32 value (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : bitsToF32(((h & 0x8000) << 16) | 0x7f800000 | (mant << 13));
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

let f16Table: Float32Array | undefined;

/** All 65536 f16 values decoded once (256 KiB), for hot dequant loops. */
export function f16Table32(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16ToF32(h);
    f16Table = t;
  }
  return f16Table;
}

/** Little-endian f16 at byte `off` of `src`, as f32. */
export function readF16(src: Uint8Array, off: number): number {
  return f16Table32()[src[off] | (src[off + 1] << 8)];
}

/** Write `x` as little-endian f16 at byte `off` of `dst`. */
export function writeF16(dst: Uint8Array, off: number, x: number): void {
  const h = f32ToF16(x);
  dst[off] = h & 0xff;
  dst[off + 1] = h >>> 8;
}

/** f32 → bf16 bits (round to nearest even; NaN forced quiet, like ggml). */
export function f32ToBF16(x: number): number {
  const u = f32Bits(x);
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bf16 bits → f32 value (exact). */
export function bf16ToF32(h: number): number {
  return bitsToF32((h & 0xffff) << 16);
}
