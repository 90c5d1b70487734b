// Y[t] = X[t] / sqrt(mean(X[t]²) + eps) · w, one workgroup per token (wg_sum: reduce-all-*.wgsl).
struct P { width: u32, eps: f32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: P;

override WG: u32 = 64u;   // power of two

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c4 = p.width / 4u;
  let base = wid.x * c4;
  var s = 0.0;
  for (var c = li; c < c4; c += WG) {
    let x = X[base + c];
    s += dot(x, x);
  }
  let scale = 1.0 / sqrt(wg_sum(s, li) / f32(p.width) + p.eps);
  for (var c = li; c < c4; c += WG) {
    Y[base + c] = (X[base + c] * scale) * dq4(0u, c * 4u);
  }
}
