// The gated activation act(gate) of a feed-forward block (glu.wgsl, matmul-glu.wgsl): silu, or
// GELU in its tanh form (Gemma) when GELU.
override GELU: bool = false;

fn act(g: f32) -> f32 {
  if (GELU) {
    // tanh(z) through exp of a non-positive argument: WGSL's tanh may overflow for large |z|
    let z = 0.7978845608028654 * g * (1.0 + 0.044715 * g * g);
    let e = exp(-2.0 * abs(z));
    let t = sign(z) * (1.0 - e) / (1.0 + e);
    return 0.5 * g * (1.0 + t);
  }
  return g / (1.0 + exp(-g));
}
