// Row reduction of the matmul ops over subgroups (adapters with the `subgroups` feature), the
// interface of reduce-rows-workgroup.wgsl: lane 0 of each row ends with the row's sums. SG is the
// adapter's smallest subgroup size, so every aligned run of SG lanes lies in one subgroup (taking
// subgroups to be runs of consecutive local_invocation_index values, as 1-D workgroups are on
// Vulkan, Metal and D3D12 drivers and SwiftShader). Within such a run the row's lanes add by
// shuffles (the pairs of reduce-rows-workgroup's tree), or by one subgroupAdd when a subgroup is exactly
// SG lanes of one row; a row wider than SG adds its runs' sums across workgroup memory (one barrier
// instead of log2(TPR)).
enable subgroups;

override SG: u32 = 4u;           // smallest subgroup size of the adapter: power of two
override SG_EXACT: bool = false; // every subgroup has SG lanes

var<workgroup> part: array<Acc, WG * TOK>;

fn reduce_row(acc: ptr<function, array<Acc, MAX_TOK>>, li: u32) {
  if (TPR == 1u) { return; }
  if (SG_EXACT && TPR >= SG) {
    for (var t = 0u; t < TOK; t++) { (*acc)[t] = subgroupAdd((*acc)[t]); }
  } else {
    for (var m = min(TPR, SG) / 2u; m > 0u; m >>= 1u) {
      for (var t = 0u; t < TOK; t++) { (*acc)[t] += subgroupShuffleXor((*acc)[t], m); }
    }
  }
  if (TPR <= SG) { return; }
  if (li % SG == 0u) {
    for (var t = 0u; t < TOK; t++) { part[t * WG + li / SG] = (*acc)[t]; }
  }
  workgroupBarrier();
  if (li % TPR == 0u) {
    for (var t = 0u; t < TOK; t++) {
      var s = Acc();
      for (var k = 0u; k < TPR / SG; k++) { s += part[t * WG + li / SG + k]; }
      (*acc)[t] = s;
    }
  }
}
