// Arithmetic precision of the weight × activation products: f32 (every adapter).
fn dotw(w: vec4<f32>, x: vec4<f32>) -> f32 {
  return dot(w, x);
}
