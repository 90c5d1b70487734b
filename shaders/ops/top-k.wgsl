// One level of the top-k reduction: workgroup g takes the chunk [g·C, g·C + C) of the input
// (C = 1024) and writes its K best as (index, value bits) pairs at OUT[2·K·g..]: in order, value
// descending then index ascending (the CPU sampler's rule). The host repeats levels over the pairs
// until one workgroup is left; K = 1 is argmax (decode reads back 8 bytes, not the vocabulary).
// A tournament tree over the chunk (built level by level, C − 1 comparisons in all) gives the best;
// one thread then takes K winners, each replaced by a sentinel and its path of log2(C) nodes
// replayed. So the input is read once and the work is ~2 comparisons a value (the old kernel
// rescanned the whole vocabulary K times in one workgroup).
// main_serial (CPU emulation, where barrier kernels pay per workgroup, as attention's): one
// invocation per chunk keeps its K ≤ 64 best in a sorted private list; no workgroup memory.
// Chunks shorter than C are padded with (index 0xffffffff, −inf), which ranks after any real value.
// Input: logits (pairs = 0; index = position) or the pairs of the previous level (pairs = 1).
// inf_bits = 0x7f800000 comes from the host: WGSL constant expressions cannot be infinite.
struct P { m: u32, k: u32, inf_bits: u32, pairs: u32 }

@group(0) @binding(0) var<storage, read> IN: array<u32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 64u;   // power of two ≤ C
const C: u32 = 1024u;     // values per workgroup (the host's TOPK_CHUNK)
var<workgroup> vals: array<f32, C>;
var<workgroup> ids: array<u32, C>;
var<workgroup> tree: array<u32, C>;  // internal node n (1 ≤ n < C): the chunk position winning its subtree; leaves are C + position

/** (v, i) ranks before (bv, bi) */
fn before(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

/** the chunk position winning node n (a leaf is itself) */
fn at(n: u32) -> u32 {
  if (n >= C) { return n - C; }
  return tree[n];
}

fn play(n: u32) {
  let a = at(2u * n);
  let b = at(2u * n + 1u);
  tree[n] = select(b, a, before(vals[a], ids[a], vals[b], ids[b]));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let ninf = -bitcast<f32>(p.inf_bits);
  let base = wg.x * C;
  for (var j = li; j < C; j += WG) {
    let i = base + j;
    var v = ninf;
    var id = 0xffffffffu;
    if (i < p.m) {
      if (p.pairs == 1u) { id = IN[2u * i]; v = bitcast<f32>(IN[2u * i + 1u]); }
      else { id = i; v = bitcast<f32>(IN[i]); }
    }
    vals[j] = v;
    ids[j] = id;
  }
  workgroupBarrier();
  for (var s = C / 2u; s > 0u; s >>= 1u) {
    for (var n = s + li; n < 2u * s; n += WG) { play(n); }
    workgroupBarrier();
  }
  if (li != 0u) { return; }
  let out0 = 2u * p.k * wg.x;
  for (var r = 0u; r < p.k; r++) {
    let t = tree[1];
    OUT[out0 + 2u * r] = ids[t];
    OUT[out0 + 2u * r + 1u] = bitcast<u32>(vals[t]);
    vals[t] = ninf;
    ids[t] = 0xffffffffu;
    for (var n = (C + t) >> 1u; n > 0u; n >>= 1u) { play(n); }
  }
}

const KMAX: u32 = 64u;

@compute @workgroup_size(WG)
fn main_serial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ninf = -bitcast<f32>(p.inf_bits);
  let base = gid.x * C;
  if (base >= p.m) { return; }
  var bv: array<f32, KMAX>;
  var bi: array<u32, KMAX>;
  var cnt = 0u;
  let end = min(base + C, p.m);
  for (var i = base; i < end; i++) {
    var v: f32;
    var id: u32;
    if (p.pairs == 1u) { id = IN[2u * i]; v = bitcast<f32>(IN[2u * i + 1u]); }
    else { id = i; v = bitcast<f32>(IN[i]); }
    if (cnt == p.k && !before(v, id, bv[cnt - 1u], bi[cnt - 1u])) { continue; }
    var s = select(cnt, cnt - 1u, cnt == p.k);  // the full list drops its last
    if (cnt < p.k) { cnt++; }
    while (s > 0u && before(v, id, bv[s - 1u], bi[s - 1u])) {
      bv[s] = bv[s - 1u];
      bi[s] = bi[s - 1u];
      s--;
    }
    bv[s] = v;
    bi[s] = id;
  }
  let out0 = 2u * p.k * gid.x;
  for (var r = 0u; r < p.k; r++) {
    OUT[out0 + 2u * r] = select(0xffffffffu, bi[r], r < cnt);
    OUT[out0 + 2u * r + 1u] = bitcast<u32>(select(ninf, bv[r], r < cnt));
  }
}
