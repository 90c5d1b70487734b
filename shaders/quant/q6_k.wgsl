// Q6_K: 128 bytes low nibbles, 64 bytes high 2 bits, 16 signed scales, f16 d (256 values).
// Half h = v>>7, quarter k = (v>>5)&3, l = v&31: low4 from ql[64h + l + 32(k&1)] nibble k>>1,
// high2 from qh[32h + l] bits 2k; x = d·sc[v>>4]·(q − 32).
const QBLOCK: u32 = 256u;
const QBYTES: u32 = 210u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 256u) * 210u;
  let v = e % 256u;
  let h = v >> 7u;
  let k = (v >> 5u) & 3u;
  let l = v & 31u;
  let lo = (u8x4(wu32(o + 64u * h + l + 32u * (k & 1u))) >> vec4<u32>(4u * (k >> 1u))) & vec4<u32>(15u);
  let hb = (u8x4(wu32(o + 128u + 32u * h + l)) >> vec4<u32>(2u * k)) & vec4<u32>(3u);
  let sc = f32(bitcast<i32>(wbyte(o + 192u + (v >> 4u)) << 24u) >> 24u);
  return (wf16(o + 208u) * sc) * (vec4<f32>(lo | (hb << vec4<u32>(4u))) - 32.0);
}
