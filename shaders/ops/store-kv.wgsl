// Writes k, v ([n_tok][kv_dim]) at positions pos0.. of one layer's caches, position p in ring slot
// p % slots (slots = context length unless the layer slides over a window). The caches are u32
// words: f32 bits, or (KV_HALF) two f16 per word.
struct P { n_tok: u32, kv_dim: u32, pos0: u32, groups_x: u32, slots: u32, pad0: u32, pad1: u32, pad2: u32 }

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
  let per = select(p.kv_dim, p.kv_dim / 2u, KV_HALF); // words per token row
  if (i >= p.n_tok * per) { return; }
  let t = i / per;
  let w = i % per;
  let dst = ((p.pos0 + t) % p.slots) * per + w;
  if (KV_HALF) {
    let s = t * p.kv_dim + 2u * w;
    KC[dst] = pack2x16float(vec2<f32>(K[s], K[s + 1u]));
    VC[dst] = pack2x16float(vec2<f32>(V[s], V[s + 1u]));
  } else {
    KC[dst] = bitcast<u32>(K[i]);
    VC[dst] = bitcast<u32>(V[i]);
  }
}
