// IQ4_NL: f16 d, 16 bytes of nibbles (element j low, j+16 high) indexing the non-linear levels; x = d·level.
const QBLOCK: u32 = 32u;
const QBYTES: u32 = 18u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 32u) * 18u;
  let j = e % 32u;
  let q = (u8x4(wu32(o + 2u + (j & 15u))) >> vec4<u32>((j >> 4u) * 4u)) & vec4<u32>(15u);
  return wf16(o) * iq4_levels(q);
}
