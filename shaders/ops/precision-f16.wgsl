// Arithmetic precision of the weight × activation products: f16 multiplies (adapters with
// shader-f16, e.g. Mali), summed per 4 values and accumulated in f32.
enable f16;

fn dotw(w: vec4<f32>, x: vec4<f32>) -> f32 {
  return f32(dot(vec4<f16>(w), vec4<f16>(x)));
}
