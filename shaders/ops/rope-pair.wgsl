// rope.wgsl's rotation for kernels that turn a value as they read it (store-kv.wgsl's keys,
// attention.wgsl's queries). Dim d < n_rot of a head pairs with d + offset (NEOX: (i, i + n_rot/2),
// else (2i, 2i+1)) at frequency i; the pair (a, b) becomes (a·cos − b·sin, a·sin + b·cos).
struct RopePair { i: u32, offset: i32, first: bool }

fn rope_pair(d: u32, n_rot: u32, neox: bool) -> RopePair {
  let half = n_rot / 2u;
  if (neox) {
    let first = d < half;
    return RopePair(d % half, select(-i32(half), i32(half), first), first);
  }
  let first = d % 2u == 0u;
  return RopePair(d / 2u, select(-1, 1, first), first);
}

// x the value, y its partner's, cs the pair's (cos, sin)
fn rope_turn(x: f32, y: f32, cs: vec2<f32>, first: bool) -> f32 {
  if (first) { return x * cs.x - y * cs.y; }
  return y * cs.y + x * cs.x;
}
