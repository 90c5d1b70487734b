// Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles (256 values).
// Chunk c = v>>6 at qs + 32c holds sub-block 2c (low nibbles) and 2c+1 (high); x = d·sc·q − dmin·m.
const QBLOCK: u32 = 256u;
const QBYTES: u32 = 144u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 256u) * 144u;
  let v = e % 256u;
  let hi = (v >> 5u) & 1u;
  let q = (u8x4(wu32(o + 16u + 32u * (v >> 6u) + (v & 31u))) >> vec4<u32>(4u * hi)) & vec4<u32>(15u);
  let sm = k_scale_min(o + 4u, v >> 5u);
  return (wf16(o) * sm.x) * vec4<f32>(q) - wf16(o + 2u) * sm.y;
}
