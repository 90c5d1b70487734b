// In-place softmax of each row of width p.width, one workgroup per row (wg_max, wg_sum: reduce-all-*.wgsl).
struct P { width: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<uniform> p: P;

override WG: u32 = 64u;   // power of two

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let base = wid.x * p.width;
  var m = -3.0e38;
  for (var i = li; i < p.width; i += WG) { m = max(m, X[base + i]); }
  m = wg_max(m, li);
  var s = 0.0;
  for (var i = li; i < p.width; i += WG) {
    let e = exp(X[base + i] - m);
    X[base + i] = e;
    s += e;
  }
  let inv = 1.0 / wg_sum(s, li);
  for (var i = li; i < p.width; i += WG) { X[base + i] *= inv; }
}
