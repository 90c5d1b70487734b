// In-place softmax of each row of width p.width, one workgroup per row.
struct P { width: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<uniform> p: P;

override WG: u32 = 64u;   // power of two
var<workgroup> red: array<f32, WG>;

fn reduce(li: u32, is_max: bool) -> f32 {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red[li] = select(red[li] + red[li + s], max(red[li], red[li + s]), is_max);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let base = wid.x * p.width;
  var m = -3.0e38;
  for (var i = li; i < p.width; i += WG) { m = max(m, X[base + i]); }
  red[li] = m;
  workgroupBarrier();
  m = reduce(li, true);
  var s = 0.0;
  for (var i = li; i < p.width; i += WG) {
    let e = exp(X[base + i] - m);
    X[base + i] = e;
    s += e;
  }
  red[li] = s;
  workgroupBarrier();
  let inv = 1.0 / reduce(li, false);
  for (var i = li; i < p.width; i += WG) { X[base + i] *= inv; }
}
