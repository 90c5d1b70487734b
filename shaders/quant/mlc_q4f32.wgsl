// MLC_Q4F32 (our block for MLC-LLM q4f32_1, src/quant/mlc_q4.ts): f32 scale, 16 bytes of nibbles in
// MLC order (byte j = element 2j low, 2j+1 high); x = scale·(q − 7). Values e..e+3 are one u16.
const QBLOCK: u32 = 32u;
const QBYTES: u32 = 20u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 32u) * 20u;
  let j = e % 32u;
  let q = (vec4<u32>(wu16(o + 4u + (j >> 1u))) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u);
  return bitcast<f32>(wu32(o)) * (vec4<f32>(q) - 7.0);
}
