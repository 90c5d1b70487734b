// Y[t][row0 + r] = Σ_c W[r][c] · X[t][c] over a quantized weight chunk (dq4 from the format snippet).
// One workgroup per (row, group of TOK tokens): TOK = 1 is the decode matrix-vector product, larger
// TOK reuses each dequantized weight for several tokens (prefill).
struct P { rows: u32, cols: u32, n_tok: u32, row0: u32, out_stride: u32, groups_x: u32, row_bytes: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

override WG: u32 = 64u;   // power of two
override TOK: u32 = 1u;   // ≤ MAX_TOK
const MAX_TOK: u32 = 8u;
var<workgroup> part: array<f32, WG * TOK>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = wid.x + wid.y * p.groups_x;
  if (r >= p.rows) { return; }
  let t0 = wid.z * TOK;
  let nt = min(TOK, p.n_tok - t0);
  let rb = r * p.row_bytes;
  let c4 = p.cols / 4u;
  var acc: array<f32, MAX_TOK>;
  for (var c = li; c < c4; c += WG) {
    let w = dq4(rb, c * 4u);
    for (var t = 0u; t < nt; t++) {
      acc[t] += dot(w, X[(t0 + t) * c4 + c]);
    }
  }
  for (var t = 0u; t < TOK; t++) { part[t * WG + li] = acc[t]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      for (var t = 0u; t < TOK; t++) { part[t * WG + li] += part[t * WG + li + s]; }
    }
    workgroupBarrier();
  }
  if (li < nt) {
    Y[(t0 + li) * p.out_stride + p.row0 + r] = part[li * WG];
  }
}
