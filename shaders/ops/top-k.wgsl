// The K largest of L[0..n) in order (value descending, index ascending on ties), by K rounds of a
// workgroup-wide argmax that excludes what earlier rounds took. OUT[2r] = index, OUT[2r+1] = value bits.
// K = 1 is argmax: decode reads back 8 bytes instead of the vocabulary.
// inf_bits = 0x7f800000 comes from the host: WGSL constant expressions cannot be infinite.
struct P { n: u32, k: u32, inf_bits: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 256u;   // power of two
var<workgroup> rv: array<f32, WG>;
var<workgroup> ri: array<u32, WG>;

/** (v, i) ranks before (bv, bi) */
fn before(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  let inf = bitcast<f32>(p.inf_bits);
  var pv = inf;
  var pi = 0xffffffffu;
  for (var r = 0u; r < p.k; r++) {
    var bv = -inf;
    var bi = 0xffffffffu;
    for (var i = li; i < p.n; i += WG) {
      let v = L[i];
      let after_prev = r == 0u || before(pv, pi, v, i);
      if (after_prev && before(v, i, bv, bi)) { bv = v; bi = i; }
    }
    rv[li] = bv;
    ri[li] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (li < s && before(rv[li + s], ri[li + s], rv[li], ri[li])) {
        rv[li] = rv[li + s];
        ri[li] = ri[li + s];
      }
      workgroupBarrier();
    }
    pv = rv[0];
    pi = ri[0];
    if (li == 0u) {
      OUT[2u * r] = pi;
      OUT[2u * r + 1u] = bitcast<u32>(pv);
    }
    workgroupBarrier();
  }
}
