// Whole-workgroup reductions (rmsnorm, softmax, attention) through workgroup memory: wg_sum and
// wg_max of one value per invocation, returned to every invocation, in a tree of log2(WG)
// barriers. Call from uniform control flow; each call is also a workgroup barrier (workgroup
// writes before it are seen after it). The op declares WG. reduce-all-subgroup.wgsl is the same
// over subgroup operations.
var<workgroup> red: array<f32, WG>;

fn wg_reduce(v: f32, li: u32, is_max: bool) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = select(red[li] + red[li + s], max(red[li], red[li + s]), is_max); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // red is written again by the next call
  return r;
}

fn wg_sum(v: f32, li: u32) -> f32 { return wg_reduce(v, li, false); }
fn wg_max(v: f32, li: u32) -> f32 { return wg_reduce(v, li, true); }
