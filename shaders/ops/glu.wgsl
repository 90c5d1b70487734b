// act(gate) · up elementwise (act: glu-act.wgsl, prepended), written in place over
// one operand (a writable binding cannot alias another): GATE_IN_PLACE: X = act(X) · A (X = gate,
// A = up); otherwise X = act(A) · X (A = gate).
struct P { n: u32, groups_x: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

override WG: u32 = 64u;
override GATE_IN_PLACE: bool = true;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  if (i >= p.n) { return; }
  if (GATE_IN_PLACE) {
    X[i] = act(X[i]) * A[i];
  } else {
    X[i] = act(A[i]) * X[i];
  }
}
