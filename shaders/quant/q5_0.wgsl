// Q5_0: f16 d, u32 of fifth bits (bit i = element i), 16 bytes of low nibbles; x = d·(q − 16).
const QBLOCK: u32 = 32u;
const QBYTES: u32 = 22u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 32u) * 22u;
  let j = e % 32u;
  let lo = (u8x4(wu32(o + 6u + (j & 15u))) >> vec4<u32>((j >> 4u) * 4u)) & vec4<u32>(15u);
  let hi = (vec4<u32>(wu32(o + 2u)) >> (vec4<u32>(0u, 1u, 2u, 3u) + j)) & vec4<u32>(1u);
  return wf16(o) * (vec4<f32>(lo | (hi << vec4<u32>(4u))) - 16.0);
}
