// Writes k, v ([n_tok][kv_dim]) at positions pos0.. of one layer's caches, position p in ring slot
// p % slots (slots = context length unless the layer slides over a window). The caches are u32
// words (KV_TYPE 0: f32 bits; 1: two f16 per word; 2: q8_0 in two planes, buffers.ts
// gpuKVRowBytes: int8 quants 4 per word, then f16 block scales 2 per word, each row's padded to
// whole words). q8_0 is llama.cpp's quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d).
// ROPE: k is turned on the way in (rope.wgsl's rotation by its (cos, sin) table CS, heads of
// head_dim), so a layer's keys need no rope dispatch of their own; K itself is left as it was.
// BIAS: k and v arrive without their biases (Qwen2's, f32 BK and BV), added here before the rope.
struct P { n_tok: u32, kv_dim: u32, pos0: u32, groups_x: u32, slots: u32, head_dim: u32, n_rot: u32, neox: u32 }

@group(0) @binding(0) var<storage, read> K: array<f32>;
@group(0) @binding(1) var<storage, read> V: array<f32>;
@group(0) @binding(2) var<storage, read_write> KC: array<u32>;
@group(0) @binding(3) var<storage, read_write> VC: array<u32>;
@group(0) @binding(4) var<storage, read> CS: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> BK: array<f32>;
@group(0) @binding(6) var<storage, read> BV: array<f32>;
@group(0) @binding(7) var<uniform> p: P;

override WG: u32 = 64u;
override KV_TYPE: u32 = 0u;
override ROPE: bool = false;
override BIAS: bool = false;

// value j of token t's key and value rows as the matmuls meant them (add-bias.wgsl's sum)
fn k_in(t: u32, j: u32) -> f32 {
  let x = K[t * p.kv_dim + j];
  if (BIAS) { return x + BK[j]; }
  return x;
}
fn v_in(t: u32, j: u32) -> f32 {
  let x = V[t * p.kv_dim + j];
  if (BIAS) { return x + BV[j]; }
  return x;
}

// value j of token t's key row, turned when ROPE (rope-pair.wgsl); dims ≥ n_rot as they are
fn key(t: u32, j: u32) -> f32 {
  let x = k_in(t, j);
  if (!ROPE) { return x; }
  let d = j % p.head_dim;
  if (d >= p.n_rot) { return x; }
  let r = rope_pair(d, p.n_rot, p.neox != 0u);
  return rope_turn(x, k_in(t, u32(i32(j) + r.offset)), CS[t * (p.n_rot / 2u) + r.i], r.first);
}

// round half away from zero, as C's roundf
fn round_away(x: f32) -> i32 {
  let t = trunc(x);
  return clamp(i32(select(t, t + sign(x), abs(x - t) >= 0.5)), -127, 127);
}

struct Q8Block { q: array<u32, 8>, d: f32 }

fn quant_block(x: array<f32, 32>) -> Q8Block {
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(x[j])); }
  var r: Q8Block;
  r.d = amax / 127.0;
  let id = select(0.0, 1.0 / r.d, r.d != 0.0);
  for (var w = 0u; w < 8u; w++) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) { word |= (u32(round_away(x[4u * w + j] * id)) & 0xffu) << (8u * j); }
    r.q[w] = word;
  }
  return r;
}

// block b of token t into the quant plane (8 words from q_word); returns (d of K, d of V)
fn store_block(t: u32, b: u32, q_word: u32) -> vec2<f32> {
  var xk: array<f32, 32>;
  var xv: array<f32, 32>;
  for (var j = 0u; j < 32u; j++) { xk[j] = key(t, 32u * b + j); xv[j] = v_in(t, 32u * b + j); }
  let qk = quant_block(xk);
  let qv = quant_block(xv);
  for (var w = 0u; w < 8u; w++) { KC[q_word + w] = qk.q[w]; VC[q_word + w] = qv.q[w]; }
  return vec2<f32>(qk.d, qv.d);
}

// one thread per scale word of a row: its one or two blocks
fn store_q8(i: u32) {
  let nb = p.kv_dim / 32u;
  let spr = (nb + 1u) / 2u;
  if (i >= p.n_tok * spr) { return; }
  let t = i / spr;
  let w = i % spr;
  let slot = (p.pos0 + t) % p.slots;
  let q_row = slot * (p.kv_dim / 4u);
  let b0 = 2u * w;
  let d0 = store_block(t, b0, q_row + 8u * b0);
  var d1 = vec2<f32>(0.0);
  if (b0 + 1u < nb) { d1 = store_block(t, b0 + 1u, q_row + 8u * (b0 + 1u)); }
  let s_word = p.slots * (p.kv_dim / 4u) + slot * spr + w;
  KC[s_word] = pack2x16float(vec2<f32>(d0.x, d1.x));
  VC[s_word] = pack2x16float(vec2<f32>(d0.y, d1.y));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  if (KV_TYPE == 2u) {
    store_q8(i);
    return;
  }
  let per = select(p.kv_dim, p.kv_dim / 2u, KV_TYPE == 1u); // words per token row
  if (i >= p.n_tok * per) { return; }
  let t = i / per;
  let w = i % per;
  let dst = ((p.pos0 + t) % p.slots) * per + w;
  if (KV_TYPE == 1u) {
    KC[dst] = pack2x16float(vec2<f32>(key(t, 2u * w), key(t, 2u * w + 1u)));
    VC[dst] = pack2x16float(vec2<f32>(v_in(t, 2u * w), v_in(t, 2u * w + 1u)));
  } else {
    KC[dst] = bitcast<u32>(key(t, w));
    VC[dst] = bitcast<u32>(v_in(t, w));
  }
}
