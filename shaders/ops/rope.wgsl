// In-place rotary embedding. CS holds (cos, sin) per (token, frequency i < n_rot/2), computed on
// the host in f64 (as the CPU path) so that large positions keep their precision.
// NEOX rotates (i, i + n_rot/2), otherwise adjacent pairs (2i, 2i+1); dims ≥ n_rot are untouched.
struct P { n_tok: u32, n_heads: u32, head_dim: u32, n_rot: u32, neox: u32, groups_x: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<storage, read> CS: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let half = p.n_rot / 2u;
  let g = (wid.x + wid.y * p.groups_x) * WG + li;
  if (g >= p.n_tok * p.n_heads * half) { return; }
  let i = g % half;
  let th = g / half;
  let t = th / p.n_heads;
  let base = th * p.head_dim;
  var a = base + 2u * i;
  var b = a + 1u;
  if (p.neox != 0u) {
    a = base + i;
    b = a + half;
  }
  let cs = CS[t * half + i];
  let x0 = X[a];
  let x1 = X[b];
  X[a] = x0 * cs.x - x1 * cs.y;
  X[b] = x0 * cs.y + x1 * cs.x;
}
