// Q5_K: as Q4_K plus 32 bytes qh; the fifth bit of element l of sub-block j is bit j of qh[l].
const QBLOCK: u32 = 256u;
const QBYTES: u32 = 176u;

fn dq4(row: u32, e: u32) -> vec4<f32> {
  let o = row + (e / 256u) * 176u;
  let v = e % 256u;
  let j = v >> 5u;
  let l = v & 31u;
  let lo = (u8x4(wu32(o + 48u + 32u * (v >> 6u) + l)) >> vec4<u32>(4u * (j & 1u))) & vec4<u32>(15u);
  let hb = (u8x4(wu32(o + 16u + l)) >> vec4<u32>(j)) & vec4<u32>(1u);
  let sm = k_scale_min(o + 4u, j);
  return (wf16(o) * sm.x) * vec4<f32>(lo + 16u * hb) - wf16(o + 2u) * sm.y;
}
