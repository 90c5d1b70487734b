// Prelude of every op that reads a weight: byte access to GGUF blocks stored as u32 words in W
// (little-endian, any alignment; no f16 storage needed), the K-quant 6-bit scale unpacking and the
// IQ4 level table.
// The format snippet (shaders/quant/<id>.wgsl) then defines QBLOCK, QBYTES and
//   fn dq4(row: u32, e: u32) -> vec4<f32>   // values e..e+3 (e % 4 == 0) of the row at byte `row`

fn wbyte(b: u32) -> u32 {
  return (W[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu;
}

fn wu16(b: u32) -> u32 {
  return wbyte(b) | (wbyte(b + 1u) << 8u);
}

fn wu32(b: u32) -> u32 {
  let s = (b & 3u) * 8u;
  let lo = W[b >> 2u];
  if (s == 0u) { return lo; }
  return (lo >> s) | (W[(b >> 2u) + 1u] << (32u - s));
}

fn wf16(b: u32) -> f32 {
  return unpack2x16float(wu16(b)).x;
}

/** the four bytes of w, low first */
fn u8x4(w: u32) -> vec4<u32> {
  return (vec4<u32>(w) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);
}

/** the four bytes of w as signed values */
fn i8x4(w: u32) -> vec4<f32> {
  let v = bitcast<vec4<i32>>(vec4<u32>(w) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
  return vec4<f32>(v);
}

/** (6-bit scale, 6-bit min) of sub-block j of the 12 packed bytes at byte sc (q4_K, q5_K) */
fn k_scale_min(sc: u32, j: u32) -> vec2<f32> {
  if (j < 4u) {
    return vec2<f32>(f32(wbyte(sc + j) & 63u), f32(wbyte(sc + j + 4u) & 63u));
  }
  let hi = wbyte(sc + j + 4u);
  let s = (hi & 15u) | ((wbyte(sc + j - 4u) >> 6u) << 4u);
  let m = (hi >> 4u) | ((wbyte(sc + j) >> 6u) << 4u);
  return vec2<f32>(f32(s), f32(m));
}

/** the non-linear levels (kvalues_iq4nl, signed bytes packed 4 per word) of four 4-bit indices (iq4_nl, iq4_xs) */
fn iq4_levels(q: vec4<u32>) -> vec4<f32> {
  let t = vec4<u32>(0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u);
  let w = vec4<u32>(t[q.x >> 2u], t[q.y >> 2u], t[q.z >> 2u], t[q.w >> 2u]);
  return vec4<f32>(bitcast<vec4<i32>>(w << (vec4<u32>(24u) - 8u * (q & vec4<u32>(3u)))) >> vec4<u32>(24u));
}
