// An attention block's q, k and v projections in one dispatch: YQ = Wq · X, YK = Wk · X, YV = Wv · X
// over the same X (the normed hidden state), so one dispatch and one pass of X do the work of three.
// Each weight has its own reader (its format's snippet: dq4 over W, dq4_k over WK, dq4_v over WV),
// so a file whose wv is another format than wq and wk (Q4_K_M: Q6_K) fuses too. A workgroup's rows
// are all of one weight: the first groups_q workgroups cover wq, the next groups_k wk, the rest wv.
// Layout as matmul.wgsl: WG / TPR rows × TOK tokens per workgroup, TPR lanes reduce a row
// (reduce_row: reduce-rows-*.wgsl).
struct P {
  rows_q: u32, rows_k: u32, rows_v: u32, cols: u32,
  n_tok: u32, groups_x: u32, groups_q: u32, groups_k: u32,
  bytes_q: u32, bytes_k: u32, bytes_v: u32, eps: f32,
}

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> WK: array<u32>;
@group(0) @binding(2) var<storage, read> WV: array<u32>;
@group(0) @binding(3) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> YQ: array<f32>;
@group(0) @binding(5) var<storage, read_write> YK: array<f32>;
@group(0) @binding(6) var<storage, read_write> YV: array<f32>;
@group(0) @binding(7) var<uniform> p: P;

override WG: u32 = 64u;   // power of two
override TPR: u32 = 1u;   // threads per row: power of two ≤ WG
override TOK: u32 = 1u;   // tokens per workgroup, ≤ MAX_TOK
const MAX_TOK: u32 = 8u;
alias Acc = f32;

/** values e..e+3 of the row at byte `row` of weight m (0 q, 1 k, 2 v) */
fn dq4_of(m: u32, row: u32, e: u32) -> vec4<f32> {
  switch m {
    case 0u: { return dq4(row, e); }
    case 1u: { return dq4_k(row, e); }
    default: { return dq4_v(row, e); }
  }
}

fn store(m: u32, i: u32, y: f32) {
  switch m {
    case 0u: { YQ[i] = y; }
    case 1u: { YK[i] = y; }
    default: { YV[i] = y; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = wid.x + wid.y * p.groups_x;
  // the weight of this workgroup, its first workgroup, its rows and row bytes
  var m = 0u;
  var g0 = 0u;
  var rows = p.rows_q;
  var row_bytes = p.bytes_q;
  if (g >= p.groups_q + p.groups_k) {
    m = 2u; g0 = p.groups_q + p.groups_k; rows = p.rows_v; row_bytes = p.bytes_v;
  } else if (g >= p.groups_q) {
    m = 1u; g0 = p.groups_q; rows = p.rows_k; row_bytes = p.bytes_k;
  }
  let r = (g - g0) * (WG / TPR) + li / TPR;
  let lane = li % TPR;
  let valid = r < rows;
  let t0 = wid.z * TOK;
  let c4 = p.cols / 4u;
  x_prep(li, t0, c4);
  var acc: array<Acc, MAX_TOK>;
  if (valid) {
    let rb = r * row_bytes;
    for (var c = lane; c < c4; c += TPR) {
      let w = dq4_of(m, rb, c * 4u);
      for (var t = 0u; t < TOK; t++) {
        if (t0 + t < p.n_tok) { acc[t] += dotw(w, x_at(t0 + t, t, c, c4)); }
      }
    }
  }
  reduce_row(&acc, li);
  if (valid && lane == 0u) {
    for (var t = 0u; t < TOK; t++) {
      if (t0 + t < p.n_tok) { store(m, (t0 + t) * rows + r, acc[t]); }
    }
  }
}
