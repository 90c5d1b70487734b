// F16: IEEE halves, two per word (rows of 4k values are 8-byte aligned).
const QBLOCK: u32 = 1u;
const QBYTES: u32 = 2u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let w = (row >> 2u) + (e >> 1u);
  return vec4<f32>(unpack2x16float(W[w]), unpack2x16float(W[w + 1u]));
}
