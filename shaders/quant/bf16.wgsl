// BF16: the top 16 bits of an f32, two per word.
const QBLOCK: u32 = 1u;
const QBYTES: u32 = 2u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let w = (row >> 2u) + (e >> 1u);
  let a = W[w];
  let b = W[w + 1u];
  return bitcast<vec4<f32>>(vec4<u32>(a << 16u, a & 0xffff0000u, b << 16u, b & 0xffff0000u));
}
