// Y[t][row0 + r] = Σ_c W[r][c] · X[t][c] over a quantized weight chunk (dq4 from the format snippet).
// A workgroup covers WG / TPR rows × TOK tokens. TPR threads share a row's columns and reduce in
// workgroup memory (GPUs with many lanes); TPR = 1 gives every thread whole rows and no barriers
// (CPU-emulated adapters). TOK = 1 is the decode matrix-vector product; larger TOK reuses each
// dequantized weight vector for several tokens (prefill). ADD accumulates into Y (Y += W · X): the
// residual add after the o and down projections, in the matmul's own store.
struct P { rows: u32, cols: u32, n_tok: u32, row0: u32, out_stride: u32, groups_x: u32, row_bytes: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

override WG: u32 = 64u;   // power of two
override TPR: u32 = 1u;   // threads per row: power of two ≤ WG
override TOK: u32 = 1u;   // tokens per workgroup, ≤ MAX_TOK
override ADD: bool = false;
const MAX_TOK: u32 = 8u;
alias Acc = f32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = (wid.x + wid.y * p.groups_x) * (WG / TPR) + li / TPR;
  let lane = li % TPR;
  let valid = r < p.rows;
  let t0 = wid.z * TOK;
  let c4 = p.cols / 4u;
  var acc: array<Acc, MAX_TOK>;
  if (valid) {
    let rb = r * p.row_bytes;
    for (var c = lane; c < c4; c += TPR) {
      let w = dq4(rb, c * 4u);
      for (var t = 0u; t < TOK; t++) {
        if (t0 + t < p.n_tok) { acc[t] += dotw(w, X[(t0 + t) * c4 + c]); }
      }
    }
  }
  reduce_row(&acc, li);
  if (valid && lane == 0u) {
    for (var t = 0u; t < TOK; t++) {
      if (t0 + t < p.n_tok) {
        let i = (t0 + t) * p.out_stride + p.row0 + r;
        // as add.wgsl: the residual plus the product
        if (ADD) { Y[i] = Y[i] + acc[t]; } else { Y[i] = acc[t]; }
      }
    }
  }
}
