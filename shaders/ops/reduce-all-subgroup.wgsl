// Whole-workgroup reductions over subgroups, the interface of reduce-all-workgroup.wgsl: each
// aligned run of SG lanes (the adapter's smallest subgroup; see reduce-rows-subgroup.wgsl) reduces
// by subgroupAdd / subgroupMax, or by shuffles when subgroups may be wider, and only the WG / SG
// run results cross workgroup memory (two barriers instead of log2(WG) + 1).
enable subgroups;

override SG: u32 = 4u;           // smallest subgroup size of the adapter: power of two
override SG_EXACT: bool = false; // every subgroup has SG lanes

var<workgroup> red: array<f32, WG>;

fn run_sum(v: f32) -> f32 {
  if (SG_EXACT) { return subgroupAdd(v); }
  var x = v;
  for (var m = min(WG, SG) / 2u; m > 0u; m >>= 1u) { x += subgroupShuffleXor(x, m); }
  return x;
}

fn run_max(v: f32) -> f32 {
  if (SG_EXACT) { return subgroupMax(v); }
  var x = v;
  for (var m = min(WG, SG) / 2u; m > 0u; m >>= 1u) { x = max(x, subgroupShuffleXor(x, m)); }
  return x;
}

fn across_runs(x: f32, li: u32, is_max: bool) -> f32 {
  if (WG <= SG) {
    workgroupBarrier(); // the interface's barrier: the op may rely on it
    return x;
  }
  if (li % SG == 0u) { red[li / SG] = x; }
  workgroupBarrier();
  var r = red[0];
  for (var k = 1u; k < WG / SG; k++) { r = select(r + red[k], max(r, red[k]), is_max); }
  workgroupBarrier(); // red is written again by the next call
  return r;
}

fn wg_sum(v: f32, li: u32) -> f32 { return across_runs(run_sum(v), li, false); }
fn wg_max(v: f32, li: u32) -> f32 { return across_runs(run_max(v), li, true); }
