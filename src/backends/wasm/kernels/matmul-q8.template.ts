// Template, not compiled directly: scripts/build-wasm.mjs emits one copy per format with an
// integer path (FORMATS entries with `qb`), replacing FMT, TS (bytes per block), BS (values per
// block) and QB (activation block: 32 or 256).

/** Activation block this format's integer kernel expects (the JS side reads it). */
export const QB_FMT: i32 = QB;
/** 1 when the format has four-token kernels (rowdotq4_FMT), which make the integer path the
 *  faster one for prefill too; without them the JS side sends only decode batches here. */
export const QT_FMT: i32 = TILES;

/**
 * out[t][r] = Σ_c W[r][c]·x[t][c] for rows r0 ≤ r < r1, x already rounded to 8 bits by
 * quantizeActs (xq, qb = QB). A weight row stays in L1 while every token passes over it, four
 * tokens at a time (rowdotq4_FMT) so each block is unpacked once per four.
 */
export function matmulq_FMT(w: usize, xq: usize, out: usize, rows: i32, cols: i32, nTokens: i32,
  r0: i32, r1: i32, _s: usize): void {
  const nb = cols / BS;
  const rowBytes = <usize>nb * TS;
  const stride = <usize>q8RowBytes(cols, QB);
  const dOff = q8ScaleOffset(cols);
  const sOff = q8SumOffset(cols, QB);
  for (let r = r0; r < r1; r++) {
    const wr = w + <usize>r * rowBytes;
    let t = 0;
    // tiles:begin
    for (; t + 4 <= nTokens; t += 4) {
      rowdotq4_FMT(wr, xq + <usize>t * stride, stride, dOff, sOff, nb, out + ((<usize>t * rows + r) << 2), <usize>rows << 2);
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
 * glu's): the feed-forward's two matmuls and its glu as one op, so the pool forks once for both
 * and no up activation is written. Four tokens at a time as matmulq_FMT; their up dots go through
 * the thread's scratch (16 bytes).
 */
export function matmulqGlu_FMT(wg: usize, wu: usize, xq: usize, out: usize, rows: i32, cols: i32, nTokens: i32, act: i32,
  r0: i32, r1: i32, s: usize): void {
  const nb = cols / BS;
  const rowBytes = <usize>nb * TS;
  const stride = <usize>q8RowBytes(cols, QB);
  const dOff = q8ScaleOffset(cols);
  const sOff = q8SumOffset(cols, QB);
  for (let r = r0; r < r1; r++) {
    const gr = wg + <usize>r * rowBytes;
    const ur = wu + <usize>r * rowBytes;
    let t = 0;
    // tiles:begin
    for (; t + 4 <= nTokens; t += 4) {
      const o = out + ((<usize>t * rows + r) << 2);
      const os = <usize>rows << 2;
      rowdotq4_FMT(gr, xq + <usize>t * stride, stride, dOff, sOff, nb, o, os);
      rowdotq4_FMT(ur, xq + <usize>t * stride, stride, dOff, sOff, nb, s, 4);
      for (let j = 0; j < 4; j++) {
        const oj = o + <usize>j * os;
        store<f32>(oj, gluOne(load<f32>(oj), load<f32>(s + (<usize>j << 2)), act));
      }
    }
    // tiles:end
    for (; t < nTokens; t++) {
      const x = xq + <usize>t * stride;
      const g = rowdotq_FMT(gr, x, x + dOff, x + sOff, nb);
      const u = rowdotq_FMT(ur, x, x + dOff, x + sOff, nb);
      store<f32>(out + ((<usize>t * rows + r) << 2), gluOne(g, u, act));
    }
  }
}
