// One level of the top-k reduction: workgroup g takes the chunk [g·C, g·C + C) of the input
// (C = WG·E) and writes its K best as (index, value bits) pairs at OUT[2·K·g..]: in order, value
// descending then index ascending (the CPU sampler's rule). The host repeats levels over the pairs
// until one workgroup is left; K = 1 is argmax (decode reads back 8 bytes, not the vocabulary).
// Each thread sorts its E values once; a tournament tree over the threads' heads then yields the
// chunk's K best in K × log2(WG) steps of one thread, so the input is read once (the old kernel
// rescanned the whole vocabulary K times in one workgroup).
// Chunks shorter than K are padded with (index 0xffffffff, −inf), which ranks after any real value.
// Input: logits (pairs = 0; index = position) or the pairs of the previous level (pairs = 1).
// inf_bits = 0x7f800000 comes from the host: WGSL constant expressions cannot be infinite.
struct P { m: u32, k: u32, inf_bits: u32, pairs: u32 }

@group(0) @binding(0) var<storage, read> IN: array<u32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 64u;    // power of two
const E: u32 = 16u;        // values per thread; the host's chunk is WG · E
var<workgroup> vals: array<f32, WG * E>;
var<workgroup> ids: array<u32, WG * E>;
var<workgroup> head: array<u32, WG>;
var<workgroup> tree: array<u32, 2u * WG>;  // node n holds the winning thread of its subtree; leaves at WG + t

/** (v, i) ranks before (bv, bi) */
fn before(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

/** the head of thread t's sorted list (a sentinel once it is used up) */
fn headVal(t: u32, ninf: f32) -> f32 {
  return select(ninf, vals[t * E + head[t]], head[t] < E);
}
fn headId(t: u32) -> u32 {
  return select(0xffffffffu, ids[t * E + head[t]], head[t] < E);
}

fn winner(a: u32, b: u32, ninf: f32) -> u32 {
  return select(b, a, before(headVal(a, ninf), headId(a), headVal(b, ninf), headId(b)));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let ninf = -bitcast<f32>(p.inf_bits);
  let base = wg.x * WG * E;
  // load (strided for coalescing) and insertion-sort this thread's E values
  let o = li * E;
  for (var j = 0u; j < E; j++) {
    let i = base + j * WG + li;
    var v = ninf;
    var id = 0xffffffffu;
    if (i < p.m) {
      if (p.pairs == 1u) { id = IN[2u * i]; v = bitcast<f32>(IN[2u * i + 1u]); }
      else { id = i; v = bitcast<f32>(IN[i]); }
    }
    var s = j;
    while (s > 0u && before(v, id, vals[o + s - 1u], ids[o + s - 1u])) {
      vals[o + s] = vals[o + s - 1u];
      ids[o + s] = ids[o + s - 1u];
      s--;
    }
    vals[o + s] = v;
    ids[o + s] = id;
  }
  head[li] = 0u;
  tree[WG + li] = li;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { tree[s + li] = winner(tree[2u * (s + li)], tree[2u * (s + li) + 1u], ninf); }
    workgroupBarrier();
  }
  if (li != 0u) { return; }
  let out0 = 2u * p.k * wg.x;
  for (var r = 0u; r < p.k; r++) {
    let t = select(tree[0], tree[1], WG > 1u);
    OUT[out0 + 2u * r] = headId(t);
    OUT[out0 + 2u * r + 1u] = bitcast<u32>(headVal(t, ninf));
    head[t]++;
    var n = (WG + t) >> 1u;
    while (n > 0u) {
      tree[n] = winner(tree[2u * n], tree[2u * n + 1u], ninf);
      n >>= 1u;
    }
  }
}
