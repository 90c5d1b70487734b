// Row reduction of the matmul ops (matmul, matmul-glu) through workgroup memory: the TPR lanes of
// a row (consecutive local_invocation_index values) add their partials in a tree of log2(TPR)
// barriers, after which lane 0 of the row holds the row's sums. The op declares Acc (its partial
// type), WG, TPR, TOK and MAX_TOK. reduce-rows-subgroup.wgsl is the same over subgroup operations.
var<workgroup> part: array<Acc, WG * TOK>;

fn reduce_row(acc: ptr<function, array<Acc, MAX_TOK>>, li: u32) {
  if (TPR == 1u) { return; }
  let lane = li % TPR;
  for (var t = 0u; t < TOK; t++) { part[t * WG + li] = (*acc)[t]; }
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      for (var t = 0u; t < TOK; t++) { part[t * WG + li] += part[t * WG + li + s]; }
    }
    workgroupBarrier();
  }
  for (var t = 0u; t < TOK; t++) { (*acc)[t] = part[t * WG + li]; }
}
