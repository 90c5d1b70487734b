// X *= factor elementwise, or (SOFTCAP) X = factor · tanh(X / factor): Gemma's final logit cap.
struct P { n: u32, groups_x: u32, factor: f32, pad: u32 }

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<uniform> p: P;

override WG: u32 = 64u;
override SOFTCAP: bool = false;

// tanh through exp of a non-positive argument, so large |z| cannot overflow
fn tanh_safe(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  if (i >= p.n) { return; }
  if (SOFTCAP) {
    X[i] = p.factor * tanh_safe(X[i] / p.factor);
  } else {
    X[i] = X[i] * p.factor;
  }
}
