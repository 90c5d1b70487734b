// Causal attention with GQA, for decode (n_tok = 1) and prefill alike: one workgroup per
// (query head, token t at position q = pos0 + t) walks keys j0..q in chunks of WG with an online
// softmax (running max m, running sum l, output rescaled by exp(m_old − m_new) per chunk).
// j0 = 0, or q − window + 1 on a sliding-window layer; key j lives in ring slot j % slots.
// Scores are q·k·scale, soft-capped to cap·tanh(s/cap) when cap > 0 (Gemma 2).
// Thread li owns output dims li, li + WG, ... (head_dim ≤ 4·WG). KV_TYPE: 0 f32, 1 f16, 2 q8_0
// (the layouts of store-kv.wgsl). wg_max, wg_sum: reduce-all-*.wgsl.
// ROPE: q is turned as it is read (rope.wgsl's rotation by its (cos, sin) table CS, as store-kv.wgsl
// turns k), so a layer's queries need no rope dispatch of their own; Q itself is left as it was.
// BIAS: q arrives without its bias (Qwen2's, f32 BQ), added here before the rope.
struct P {
  n_head: u32, n_head_kv: u32, head_dim: u32, pos0: u32, kv_dim: u32, scale: f32, n_tok: u32, window: u32,
  softcap: f32, slots: u32, n_rot: u32, neox: u32,
}

@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> KC: array<u32>;
@group(0) @binding(2) var<storage, read> VC: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read> CS: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> BQ: array<f32>;
@group(0) @binding(6) var<uniform> p: P;

override WG: u32 = 64u;   // power of two
override ROPE: bool = false;
override BIAS: bool = false;
const MAX_HEAD_DIM: u32 = 256u;
const NEG_BIG: f32 = -3.0e38; // stands in for −∞: exp(NEG_BIG − m) = 0, and no NaN from −∞ − (−∞)
var<workgroup> qv: array<f32, MAX_HEAD_DIM>;
var<workgroup> prob: array<f32, WG>;

fn k_at(slot: u32, col: u32) -> f32 {
  let sw = select(0u, KC[kv_scale_word(slot, col)], KV_TYPE == 2u);
  return kv_value(KC[kv_word(slot, col)], sw, col);
}
fn v_at(slot: u32, col: u32) -> f32 {
  let sw = select(0u, VC[kv_scale_word(slot, col)], KV_TYPE == 2u);
  return kv_value(VC[kv_word(slot, col)], sw, col);
}

// q as the matmul meant it (add-bias.wgsl's sum); value d of token t's query head at qo, turned
// when ROPE (rope-pair.wgsl); dims ≥ n_rot as they are
fn q_in(i: u32) -> f32 {
  if (BIAS) { return Q[i] + BQ[i % (p.n_head * p.head_dim)]; }
  return Q[i];
}
fn query(qo: u32, t: u32, d: u32) -> f32 {
  let x = q_in(qo + d);
  if (!ROPE || d >= p.n_rot) { return x; }
  let r = rope_pair(d, p.n_rot, p.neox != 0u);
  return rope_turn(x, q_in(u32(i32(qo + d) + r.offset)), CS[t * (p.n_rot / 2u) + r.i], r.first);
}

// first key position a query at position q sees
fn first_key(q: u32) -> u32 {
  if (p.window > 0u && q + 1u > p.window) { return q + 1u - p.window; }
  return 0u;
}

fn score(dot: f32) -> f32 {
  let s = dot * p.scale;
  if (p.softcap > 0.0) {
    // cap · tanh(s / cap), tanh through exp of a non-positive argument
    let z = s / p.softcap;
    let e = exp(-2.0 * abs(z));
    return p.softcap * sign(z) * (1.0 - e) / (1.0 + e);
  }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let h = wid.x;
  let t = wid.y;
  let hd = p.head_dim;
  let kvo = (h / (p.n_head / p.n_head_kv)) * hd;
  let qo = (t * p.n_head + h) * hd;
  for (var d = li; d < hd; d += WG) { qv[d] = query(qo, t, d); }
  workgroupBarrier();
  let j0 = first_key(p.pos0 + t);
  let n_keys = p.pos0 + t + 1u - j0;
  var m = NEG_BIG;
  var l = 0.0;
  var acc = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < n_keys; k0 += WG) {
    let key = k0 + li;
    var s = NEG_BIG;
    if (key < n_keys) {
      var dot = 0.0;
      let slot = (j0 + key) % p.slots;
      for (var d = 0u; d < hd; d++) { dot += qv[d] * k_at(slot, kvo + d); }
      s = score(dot);
    }
    let m_new = max(m, wg_max(s, li));
    let pr = select(0.0, exp(s - m_new), key < n_keys);
    prob[li] = pr;
    let alpha = exp(m - m_new);
    l = l * alpha + wg_sum(pr, li); // also the barrier after which every invocation reads prob
    let nk = min(WG, n_keys - k0);
    for (var i = 0u; i < 4u; i++) {
      let d = li + i * WG;
      if (d < hd) {
        var a = acc[i] * alpha;
        for (var j = 0u; j < nk; j++) { a += prob[j] * v_at((j0 + k0 + j) % p.slots, kvo + d); }
        acc[i] = a;
      }
    }
    m = m_new;
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let d = li + i * WG;
    if (d < hd) { O[qo + d] = acc[i] / l; }
  }
}

// Entry point for CPU-emulated adapters (SwiftShader), where barriers are costly: one thread per
// (query head, token) walks all its keys with the same online softmax, rescaling per key.
@compute @workgroup_size(WG)
fn main_serial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = gid.x % p.n_head;
  let t = gid.x / p.n_head;
  if (t >= p.n_tok) { return; }
  let hd = p.head_dim;
  let kvo = (h / (p.n_head / p.n_head_kv)) * hd;
  let qo = (t * p.n_head + h) * hd;
  var acc: array<f32, MAX_HEAD_DIM>;
  var qs: array<f32, MAX_HEAD_DIM>;
  for (var d = 0u; d < hd; d++) { qs[d] = query(qo, t, d); }
  var m = NEG_BIG;
  var l = 0.0;
  for (var j = first_key(p.pos0 + t); j < p.pos0 + t + 1u; j++) {
    let slot = j % p.slots;
    var dot = 0.0;
    for (var d = 0u; d < hd; d++) { dot += qs[d] * k_at(slot, kvo + d); }
    let s = score(dot);
    let m_new = max(m, s);
    let alpha = exp(m - m_new);
    let pr = exp(s - m_new);
    l = l * alpha + pr;
    for (var d = 0u; d < hd; d++) { acc[d] = acc[d] * alpha + pr * v_at(slot, kvo + d); }
    m = m_new;
  }
  for (var d = 0u; d < hd; d++) { O[qo + d] = acc[d] / l; }
}
