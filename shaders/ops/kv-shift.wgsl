// Context shift of one layer's K or V cache: cached position np (lo ≤ np < hi) takes the row of
// position np + shift (ring slot (np + shift) % slots) from SRC, a copy of the layer made just
// before, so rows may move in any order, even round a sliding ring. With ROTATE (keys) the first
// n_rot dims of each head turn by the angles in CS (those of position −shift; rotations compose).
// One thread per (row, head); the caches are u32 words: f32 bits, or (KV_HALF) two f16 per word.
struct P { lo: u32, hi: u32, shift: u32, slots: u32, kv_dim: u32, head_dim: u32, n_rot: u32, neox: u32, groups_x: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> SRC: array<u32>;
@group(0) @binding(1) var<storage, read_write> DST: array<u32>;
@group(0) @binding(2) var<storage, read> CS: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> p: P;

override WG: u32 = 64u;
override KV_HALF: bool = false;
override ROTATE: bool = false;
const MAX_HEAD: u32 = 512u;

fn load(e: u32) -> f32 {
  if (KV_HALF) { return unpack2x16float(SRC[e / 2u])[e % 2u]; }
  return bitcast<f32>(SRC[e]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let heads = p.kv_dim / p.head_dim;
  let g = (wid.x + wid.y * p.groups_x) * WG + li;
  let np = p.lo + g / heads;
  if (np >= p.hi) { return; }
  let h = g % heads;
  let src = ((np + p.shift) % p.slots) * p.kv_dim + h * p.head_dim;
  let dst = (np % p.slots) * p.kv_dim + h * p.head_dim;
  var x: array<f32, MAX_HEAD>;
  for (var j = 0u; j < p.head_dim; j++) { x[j] = load(src + j); }
  if (ROTATE) {
    let half = p.n_rot / 2u;
    for (var i = 0u; i < half; i++) {
      var a = 2u * i;
      var b = a + 1u;
      if (p.neox != 0u) { a = i; b = i + half; }
      let cs = CS[i];
      let x0 = x[a];
      let x1 = x[b];
      x[a] = x0 * cs.x - x1 * cs.y;
      x[b] = x0 * cs.y + x1 * cs.x;
    }
  }
  if (KV_HALF) {
    for (var j = 0u; j < p.head_dim; j += 2u) { DST[(dst + j) / 2u] = pack2x16float(vec2<f32>(x[j], x[j + 1u])); }
  } else {
    for (var j = 0u; j < p.head_dim; j++) { DST[dst + j] = bitcast<u32>(x[j]); }
  }
}
