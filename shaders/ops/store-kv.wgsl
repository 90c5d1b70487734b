// Writes k, v ([n_tok][kv_dim]) at positions pos0.. of one layer's caches. The caches are u32 words:
// f32 bits, or (KV_HALF) two f16 per word.
struct P { n_tok: u32, kv_dim: u32, pos0: u32, groups_x: u32 }

@group(0) @binding(0) var<storage, read> K: array<f32>;
@group(0) @binding(1) var<storage, read> V: array<f32>;
@group(0) @binding(2) var<storage, read_write> KC: array<u32>;
@group(0) @binding(3) var<storage, read_write> VC: array<u32>;
@group(0) @binding(4) var<uniform> p: P;

override WG: u32 = 64u;
override KV_HALF: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  let base = p.pos0 * p.kv_dim;
  if (KV_HALF) {
    if (i >= p.n_tok * p.kv_dim / 2u) { return; }
    KC[base / 2u + i] = pack2x16float(vec2<f32>(K[2u * i], K[2u * i + 1u]));
    VC[base / 2u + i] = pack2x16float(vec2<f32>(V[2u * i], V[2u * i + 1u]));
  } else {
    if (i >= p.n_tok * p.kv_dim) { return; }
    KC[base + i] = bitcast<u32>(K[i]);
    VC[base + i] = bitcast<u32>(V[i]);
  }
}
