// Template, not compiled directly: scripts/build-wasm.mjs emits one copy per block format,
// replacing FMT (format id), BS (values per block), TS (bytes per block) and GROUP (blocks per
// deqGroup_FMT call; 1 means the format has only deqBlock_FMT).

/** Dequantize n blocks at src into f32 at dst. */
export function deq_FMT(src: usize, dst: usize, n: i32): void {
  let b = 0;
  for (; b + GROUP <= n; b += GROUP) deqGroup_FMT(src + <usize>b * TS, dst + ((<usize>b * BS) << 2));
  for (; b < n; b++) deqBlock_FMT(src + <usize>b * TS, dst + ((<usize>b * BS) << 2));
}

/**
 * out[t][r] = sum_c W[r][c]·x[t][c] for rows r0 ≤ r < r1. Each weight block is dequantized once
 * into scratch (CHUNK floats: 4 rows × ROW_CHUNK) and reused for every token.
 */
export function matmul_FMT(w: usize, x: usize, out: usize, rows: i32, cols: i32, nTokens: i32,
  r0: i32, r1: i32, scratch: usize): void {
  const nb = cols / BS;
  const rowBytes = <usize>nb * TS;
  const chunk = max(1, ROW_CHUNK / BS);
  const stride = chunk * BS;
  let r = r0;
  for (; r + 4 <= r1; r += 4) {
    const o = out + (<usize>r << 2);
    for (let k = 0; k < 4; k++) zeroColumn(o + (<usize>k << 2), rows, nTokens);
    for (let b = 0; b < nb; b += chunk) {
      const n = min(chunk, nb - b);
      const src = w + <usize>r * rowBytes + <usize>b * TS;
      for (let k = 0; k < 4; k++) deq_FMT(src + <usize>k * rowBytes, scratch + ((<usize>k * stride) << 2), n);
      accumulate4Rows(scratch, stride, x + ((<usize>b * BS) << 2), cols, o, rows, n * BS, nTokens);
    }
  }
  for (; r < r1; r++) {
    const o = out + (<usize>r << 2);
    zeroColumn(o, rows, nTokens);
    for (let b = 0; b < nb; b += chunk) {
      const n = min(chunk, nb - b);
      deq_FMT(w + <usize>r * rowBytes + <usize>b * TS, scratch, n);
      accumulateRow(scratch, x + ((<usize>b * BS) << 2), cols, o, rows, n * BS, nTokens);
    }
  }
}
