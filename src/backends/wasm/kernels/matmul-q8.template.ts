// Template, not compiled directly: scripts/build-wasm.mjs emits one copy per format with an
// integer path (FORMATS entries with `qb`), replacing FMT, TS (bytes per block), BS (values per
// block) and QB (activation block: 32 or 256).

/** Activation block this format's integer kernel expects (the JS side reads it). */
export const QB_FMT: i32 = QB;
/** 1 when the format has four-token kernels (rowdotq4_FMT), which make the integer path the
 *  faster one for prefill too; without them the JS side sends only decode batches here. */
export const QT_FMT: i32 = TILES;
/** 1 when those tiles read a row prep (rowPrep4_FMT) from scratch past CHUNK: the JS side sizes
 *  the scratch for it (sizing.ts rowPrepBytes). */
export const QP_FMT: i32 = PREP;

/**
 * out[t][r] = Σ_c W[r][c]·x[t][c] for rows r0 ≤ r < r1, x already rounded to 8 bits by
 * quantizeActs (xq, qb = QB). A weight row stays in L1 while every token passes over it, four
 * tokens at a time (rowdotq4_FMT) so each block is unpacked once per four.
 */
export function matmulq_FMT(w: usize, xq: usize, out: usize, rows: i32, cols: i32, nTokens: i32,
  r0: i32, r1: i32, s: usize): void {
  const nb = cols / BS;
  const rowBytes = <usize>nb * TS;
  const stride = <usize>q8RowBytes(cols, QB);
  const dOff = q8ScaleOffset(cols);
  const sOff = q8SumOffset(cols, QB);
  // the row's prepped data, past the CHUNK floats matmulqGlu keeps up's products in (the backend
  // sizes the scratch: sizing.ts rowPrepBytes)
  const ds = s + (<usize>CHUNK << 2);
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * rowBytes;
    let t = 0;
    // tiles:begin
    // prep:begin
    if (nTokens >= 4) rowPrep4_FMT(wr, nb, ds);
    // prep:end
    for (; t + 4 <= nTokens; t += 4) {
      rowdotq4_FMT(wr, xq + <usize>t * stride, stride, dOff, sOff, nb, out + ((<usize>t * rows + r) << 2), <usize>rows << 2, ds);
    }
    // tiles:end
    for (; t < nTokens; t++) {
      const x = xq + <usize>t * stride;
      store<f32>(out + ((<usize>t * rows + r) << 2), rowdotq_FMT(wr, x, x + dOff, x + sOff, nb));
    }
  }
}

/**
 * out[t][r] = act(G[r]·x[t]) · (U[r]·x[t]) for rows r0 ≤ r < r1 (gate and up of one format, act as
 * glu's; nTokens ≤ 64): the feed-forward's two matmuls and its glu as one op, so the pool forks once
 * for both. Runs of up to 64 rows: gate's into out, up's into the thread's scratch (CHUNK floats),
 * then the glu over the run. Each weight is read in long contiguous runs (alternating the two
 * weights row by row read 15-50% slower: short runs defeat the prefetcher).
 */
export function matmulqGlu_FMT(wg: usize, wu: usize, xq: usize, out: usize, rows: i32, cols: i32, nTokens: i32, act: i32,
  r0: i32, r1: i32, s: usize): void {
  const rowBytes = <usize>(cols / BS) * TS;
  const run = min(64, (ROW_CHUNK * 4) / nTokens);
  for (let a = r0; a < r1; a += run) {
    const n = min(run, r1 - a);
    matmulq_FMT(wg, xq, out, rows, cols, nTokens, a, a + n, s);
    matmulq_FMT(wu + <usize>a * rowBytes, xq, s, n, cols, nTokens, 0, n, s);
    for (let t = 0; t < nTokens; t++) {
      const o = out + ((<usize>t * rows + a) << 2);
      const u = s + ((<usize>t * n) << 2);
      for (let i = 0; i < n; i++) {
        const oi = o + (<usize>i << 2);
        store<f32>(oi, gluOne(load<f32>(oi), load<f32>(u + (<usize>i << 2)), act));
      }
    }
  }
}

/**
 * q[t], k[t], v[t] = Wq·x[t], Wk·x[t], Wv·x[t] (one format) for rows r0 ≤ r < r1 of the three
 * stacked (q's rows, then k's, then v's; rowsV = 0: q and k only): the attention block's
 * projections as one op, so the pool forks once for all three over the one rounded input.
 */
export function matmulqQKV_FMT(wq: usize, wk: usize, wv: usize, xq: usize, yq: usize, yk: usize, yv: usize,
  rowsQ: i32, rowsK: i32, rowsV: i32, cols: i32, nTokens: i32, r0: i32, r1: i32, s: usize): void {
  const q1 = min(r1, rowsQ);
  if (r0 < q1) matmulq_FMT(wq, xq, yq, rowsQ, cols, nTokens, r0, q1, s);
  const k0 = max(r0, rowsQ) - rowsQ;
  const k1 = min(r1, rowsQ + rowsK) - rowsQ;
  if (k0 < k1) matmulq_FMT(wk, xq, yk, rowsK, cols, nTokens, k0, k1, s);
  const v0 = max(r0, rowsQ + rowsK) - rowsQ - rowsK;
  const v1 = min(r1, rowsQ + rowsK + rowsV) - rowsQ - rowsK;
  if (v0 < v1) matmulq_FMT(wv, xq, yv, rowsV, cols, nTokens, v0, v1, s);
}
