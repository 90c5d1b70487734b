// X[t][c] += bias[c] for every token (bias in any block format).
struct P { n4: u32, width: u32, groups_x: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read_write> X: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  if (i >= p.n4) { return; }
  X[i] += dq4(0u, (i % (p.width / 4u)) * 4u);
}
