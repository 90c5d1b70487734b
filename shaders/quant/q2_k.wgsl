// Q2_K: 16 scale/min bytes, 64 bytes of 2-bit quants, f16 d, f16 dmin (256 values).
// Value v: byte 32·(v>>7) + (v&31), shift 2·((v>>5)&3); x = d·(sc&15)·q − dmin·(sc>>4), sc = scales[v>>4].
const QBLOCK: u32 = 256u;
const QBYTES: u32 = 84u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 256u) * 84u;
  let v = e % 256u;
  let q = (u8x4(wu32(o + 16u + 32u * (v >> 7u) + (v & 31u))) >> vec4<u32>(2u * ((v >> 5u) & 3u))) & vec4<u32>(3u);
  let sc = wbyte(o + (v >> 4u));
  return (wf16(o + 80u) * f32(sc & 15u)) * vec4<f32>(q) - wf16(o + 82u) * f32(sc >> 4u);
}
