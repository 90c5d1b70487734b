// Activations rounded to 8 bits for the integer matmul path (llama.cpp's Q8_0 / Q8_K idea).
// One token's row of `cols` values, for a weight format whose dot uses blocks of `qb` values
// (32, or 256 for k-quants), is laid out as
//   qs    cols × i8         round(x / d), |q| ≤ 127
//   d     cols/qb × f32     per-block scale amax / 127
//   bsum  cols/16 × i16     sum of each 16 consecutive qs (for weight offsets and mins)
//   tile  ⌈nb/4⌉ × f32x4    a four-token tile's scales, interleaved (nb = cols/qb blocks): row
//                           4T + k holds, as vector i, the d of block 4i + k of tokens 4T..4T + 3
//                           (only for complete tiles), so a tile kernel loads a block's four
//                           scales at once instead of gathering them lane by lane
// padded to 16 bytes.

/** Bytes of one token's quantized row. */
export function q8RowBytes(cols: i32, qb: i32): i32 {
  const nb = cols / qb;
  return (cols + nb * 4 + (cols >> 3) + ((nb + 3) >> 2) * 16 + 15) & ~15;
}

/** Byte offset of the scales within a row. */
@inline export function q8ScaleOffset(cols: i32): usize {
  return <usize>cols;
}

/** Byte offset of the 16-value sums within a row. */
@inline export function q8SumOffset(cols: i32, qb: i32): usize {
  return <usize>(cols + (cols / qb) * 4);
}

/** Byte offset of the interleaved tile scales within a row (sums offset + cols/8). */
@inline export function q8TileOffset(sOff: usize, cols: i32): usize {
  return sOff + <usize>(cols >> 3);
}

@inline function absMax16(p: usize, acc: v128): v128 {
  acc = f32x4.max(acc, f32x4.abs(v128.load(p)));
  acc = f32x4.max(acc, f32x4.abs(v128.load(p + 16)));
  acc = f32x4.max(acc, f32x4.abs(v128.load(p + 32)));
  return f32x4.max(acc, f32x4.abs(v128.load(p + 48)));
}

@inline function round4(p: usize, s: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p), s)));
}

/** Quantizes 16 floats at x with inverse scale s into 16 bytes at q; returns their sum. */
@inline function quant16(x: usize, s: v128, q: usize): i32 {
  const a = round4(x, s);
  const b = round4(x + 16, s);
  const c = round4(x + 32, s);
  const d = round4(x + 48, s);
  v128.store(q, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
  const t = i32x4.add(i32x4.add(a, b), i32x4.add(c, d));
  return i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1) + i32x4.extract_lane(t, 2) + i32x4.extract_lane(t, 3);
}

/** Rows t0 ≤ t < t1 of x ([t][cols] f32 of nTokens rows, cols a multiple of qb) into dst in the layout above. */
export function quantizeActs(x: usize, dst: usize, cols: i32, qb: i32, nTokens: i32, t0: i32, t1: i32, _s: usize): void {
  const stride = <usize>q8RowBytes(cols, qb);
  const tOff = q8TileOffset(q8SumOffset(cols, qb), cols);
  for (let t = t0; t < t1; t++) {
    const xr = x + ((<usize>t * cols) << 2);
    const row = dst + <usize>t * stride;
    const dp = row + q8ScaleOffset(cols);
    const sp = row + q8SumOffset(cols, qb);
    // this token's lane in its tile's scale vectors, which live in rows 4T..4T + 3
    const tile = (t | 3) < nTokens ? dst + <usize>(t & ~3) * stride + tOff + (<usize>(t & 3) << 2) : 0;
    for (let b = 0; b < cols; b += qb) {
      let m = f32x4.splat(0);
      for (let i = 0; i < qb; i += 16) m = absMax16(xr + (<usize>(b + i) << 2), m);
      const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      const d: f32 = amax / 127;
      const inv = f32x4.splat(d > 0 ? 1 / d : 0);
      const bi = b / qb;
      store<f32>(dp + (<usize>bi << 2), d);
      if (tile) store<f32>(tile + <usize>(bi & 3) * stride + (<usize>(bi >> 2) << 4), d);
      for (let i = 0; i < qb; i += 16) {
        const j = b + i;
        store<i16>(sp + (<usize>(j >> 4) << 1), <i16>quant16(xr + (<usize>j << 2), inv, row + <usize>j));
      }
    }
  }
}
