// F32: one value per 4 bytes (rows are word-aligned).
const QBLOCK: u32 = 1u;
const QBYTES: u32 = 4u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let w = (row >> 2u) + e;
  return bitcast<vec4<f32>>(vec4<u32>(W[w], W[w + 1u], W[w + 2u], W[w + 3u]));
}
