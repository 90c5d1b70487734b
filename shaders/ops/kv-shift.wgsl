// Context shift, first half: gathers the rows that move out of one layer's K or V cache into f32
// rows OUT[r] (r = np − lo for lo ≤ np < hi; the row of position np + shift, in ring slot
// (np + shift) % slots), turning keys (ROTATE) back by the angles in CS (those of position
// −shift: rotations compose). store-kv then writes OUT at positions lo.. in the cache's own type,
// so rows may move in any order, round a sliding ring too. One thread per (row, head).
struct P { lo: u32, hi: u32, shift: u32, slots: u32, kv_dim: u32, head_dim: u32, n_rot: u32, neox: u32, groups_x: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> C: array<u32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> CS: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> p: P;

override WG: u32 = 64u;
override ROTATE: bool = false;

fn at(slot: u32, col: u32) -> f32 {
  let sw = select(0u, C[kv_scale_word(slot, col)], KV_TYPE == 2u);
  return kv_value(C[kv_word(slot, col)], sw, col);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let heads = p.kv_dim / p.head_dim;
  let g = (wid.x + wid.y * p.groups_x) * WG + li;
  let r = g / heads;
  if (p.lo + r >= p.hi) { return; }
  let h = g % heads;
  let slot = (p.lo + r + p.shift) % p.slots;
  let col0 = h * p.head_dim;
  let out0 = r * p.kv_dim + col0;
  for (var j = 0u; j < p.head_dim; j++) { OUT[out0 + j] = at(slot, col0 + j); }
  if (!ROTATE) { return; }
  let half = p.n_rot / 2u;
  for (var i = 0u; i < half; i++) {
    var a = 2u * i;
    var b = a + 1u;
    if (p.neox != 0u) { a = i; b = i + half; }
    let cs = CS[i];
    let x0 = OUT[out0 + a];
    let x1 = OUT[out0 + b];
    OUT[out0 + a] = x0 * cs.x - x1 * cs.y;
    OUT[out0 + b] = x0 * cs.y + x1 * cs.x;
  }
}
