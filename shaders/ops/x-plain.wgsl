// The input of a fused matmul op (matmul-glu, matmul-qkv) as stored: x_at(t, tl, c) is value
// quad c of token t (the workgroup's token tl = t - t0). x-rmsnorm.wgsl is the same through an RMSNorm.
fn x_prep(li: u32, t0: u32, c4: u32) {}

fn x_at(t: u32, tl: u32, c: u32, c4: u32) -> vec4<f32> { return X[t * c4 + c]; }
