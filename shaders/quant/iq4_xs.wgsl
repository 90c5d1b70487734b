// IQ4_XS: f16 d, u16 scales_h, 4 bytes scales_l, 128 bytes of nibbles (256 values). Sub-block j = v>>5
// is 16 bytes at qs + 16j laid out as IQ4_NL; its 6-bit scale ls is nibble j&1 of scales_l[j>>1] plus
// bits 2j..2j+1 of scales_h as bits 4..5; x = d·(ls − 32)·level.
const QBLOCK: u32 = 256u;
const QBYTES: u32 = 136u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 256u) * 136u;
  let v = e % 256u;
  let j = v >> 5u;
  let l = v & 31u;
  let q = (u8x4(wu32(o + 8u + 16u * j + (l & 15u))) >> vec4<u32>((l >> 4u) * 4u)) & vec4<u32>(15u);
  let ls = ((wbyte(o + 4u + (j >> 1u)) >> (4u * (j & 1u))) & 15u) | (((wu16(o + 2u) >> (2u * j)) & 3u) << 4u);
  return (wf16(o) * (f32(ls) - 32.0)) * iq4_levels(q);
}
