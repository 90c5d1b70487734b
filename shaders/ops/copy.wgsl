// D[dst + i] = S[src + i] for i < n (kept in the compute pass instead of a copy command).
struct P { n: u32, src: u32, dst: u32, groups_x: u32 }

@group(0) @binding(0) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read_write> D: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  if (i >= p.n) { return; }
  D[p.dst + i] = S[p.src + i];
}
