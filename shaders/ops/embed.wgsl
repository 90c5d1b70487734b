// Y[t] = dequantized row ids[t] of the table; a chunk holds rows row0..row0+rows, other ids skip it.
struct P { n_tok: u32, cols: u32, row0: u32, rows: u32, row_bytes: u32, groups_x: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: P;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * p.groups_x) * WG + li;
  let c4 = p.cols / 4u;
  if (i >= p.n_tok * c4) { return; }
  let t = i / c4;
  let r = ids[t] - p.row0;
  if (r >= p.rows) { return; }
  Y[i] = dq4(r * p.row_bytes, (i % c4) * 4u);
}
