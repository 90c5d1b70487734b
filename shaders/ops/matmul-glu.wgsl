// Y[t][row0 + r] = act(Σ_c G[r][c] · X[t][c]) · Σ_c U[r][c] · X[t][c]: a feed-forward block's gate
// and up matmuls and its GLU in one pass (gate and up of one format and shape). Each thread reads
// row r of both weights against the same X values, so gate · x and up · x never go to memory and x
// is read once. G is read by dq4 (binding W), U by dq4_u (the same snippet over binding U).
// Layout as matmul.wgsl: WG / TPR rows × TOK tokens per workgroup, TPR lanes reduce a row (reduce_row).
struct P { rows: u32, cols: u32, n_tok: u32, row0: u32, out_stride: u32, groups_x: u32, row_bytes: u32, eps: f32 }

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> U: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;

override WG: u32 = 64u;   // power of two
override TPR: u32 = 1u;   // threads per row: power of two ≤ WG
override TOK: u32 = 1u;   // tokens per workgroup, ≤ MAX_TOK
const MAX_TOK: u32 = 8u;
alias Acc = vec2<f32>; // (gate · x, up · x)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = (wid.x + wid.y * p.groups_x) * (WG / TPR) + li / TPR;
  let lane = li % TPR;
  let valid = r < p.rows;
  let t0 = wid.z * TOK;
  let c4 = p.cols / 4u;
  x_prep(li, t0, c4);
  var acc: array<Acc, MAX_TOK>;
  if (valid) {
    let rb = r * p.row_bytes;
    for (var c = lane; c < c4; c += TPR) {
      let g = dq4(rb, c * 4u);
      let u = dq4_u(rb, c * 4u);
      for (var t = 0u; t < TOK; t++) {
        if (t0 + t < p.n_tok) {
          let x = x_at(t0 + t, t, c, c4);
          acc[t] += vec2<f32>(dotw(g, x), dotw(u, x));
        }
      }
    }
  }
  reduce_row(&acc, li);
  if (valid && lane == 0u) {
    for (var t = 0u; t < TOK; t++) {
      if (t0 + t < p.n_tok) { Y[(t0 + t) * p.out_stride + p.row0 + r] = act(acc[t].x) * acc[t].y; }
    }
  }
}
