// The input of a fused matmul op through an RMSNorm: x_at(t, tl, c) is value quad c of
// X[t] / sqrt(mean(X[t]²) + eps) · N, computed with rmsnorm.wgsl's very operations (same partial
// sums per invocation, same wg_sum, same products), so the matmul sees the values a separate
// rmsnorm dispatch would have stored, bit for bit. x_prep finds each of the workgroup's tokens' scale
// (from uniform control flow: it reduces across the workgroup). The op declares X, P (with eps),
// WG, TOK and MAX_TOK; N is read by dq4_n (shader-source.ts gives it the binding before the uniform).
@group(0) @binding(NORM_BINDING) var<storage, read> N: array<u32>;

var<private> x_scale: array<f32, MAX_TOK>;

fn x_prep(li: u32, t0: u32, c4: u32) {
  for (var t = 0u; t < TOK; t++) {
    if (t0 + t < p.n_tok) {
      let base = (t0 + t) * c4;
      var s = 0.0;
      for (var c = li; c < c4; c += WG) {
        let x = X[base + c];
        s += dot(x, x);
      }
      x_scale[t] = 1.0 / sqrt(wg_sum(s, li) / f32(c4 * 4u) + p.eps);
    }
  }
}

fn x_at(t: u32, tl: u32, c: u32, c4: u32) -> vec4<f32> { return (X[t * c4 + c] * x_scale[tl]) * dq4_n(0u, c * 4u); }
