// Q3_K: 32 bytes hmask, 64 bytes low 2 bits (packed as q2_K), 12 bytes of 6-bit scales, f16 d.
// x = d·(s − 32)·(q − 4) with q's bit 2 = bit v>>5 of hmask[v&31].
const QBLOCK: u32 = 256u;
const QBYTES: u32 = 110u;

fn q3k_scale(sc: u32, j: u32) -> f32 {
  let lo = select(wbyte(sc + j - 8u) >> 4u, wbyte(sc + j) & 15u, j < 8u);
  let hi = (wbyte(sc + 8u + (j & 3u)) >> (2u * (j >> 2u))) & 3u;
  return f32(lo | (hi << 4u)) - 32.0;
}

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 256u) * 110u;
  let v = e % 256u;
  let lo = (u8x4(wu32(o + 32u + 32u * (v >> 7u) + (v & 31u))) >> vec4<u32>(2u * ((v >> 5u) & 3u))) & vec4<u32>(3u);
  let hm = (u8x4(wu32(o + (v & 31u))) >> vec4<u32>(v >> 5u)) & vec4<u32>(1u);
  return (wf16(o + 108u) * q3k_scale(o + 96u, v >> 4u)) * (vec4<f32>(lo + 4u * hm) - 4.0);
}
