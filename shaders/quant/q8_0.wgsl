// Q8_0: f16 d, 32 signed bytes; x = d·q.
const QBLOCK: u32 = 32u;
const QBYTES: u32 = 34u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 32u) * 34u;
  return wf16(o) * i8x4(wu32(o + 2u + e % 32u));
}
