// Q4_1: f16 d, f16 m, 16 bytes of nibbles (element j low, j+16 high); x = d·q + m.
const QBLOCK: u32 = 32u;
const QBYTES: u32 = 20u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 32u) * 20u;
  let j = e % 32u;
  let q = (u8x4(wu32(o + 4u + (j & 15u))) >> vec4<u32>((j >> 4u) * 4u)) & vec4<u32>(15u);
  return wf16(o) * vec4<f32>(q) + wf16(o + 2u);
}
