// Template, not compiled directly: scripts/build-wasm.mjs emits one copy per block format,
// replacing FMT (format id), BS (values per block), TS (bytes per block) and GROUP (blocks per
// deqGroup_FMT call; 1 means the format has only deqBlock_FMT).

/** Dequantize n blocks at src into f32 at dst. */
export function deq_FMT(src: usize, dst: usize, n: i32): void {
  let b = 0;
  for (; b + GROUP <= n; b += GROUP) deqGroup_FMT(src + <usize>b * TS, dst + ((<usize>b * BS) << 2));
  for (; b < n; b++) deqBlock_FMT(src + <usize>b * TS, dst + ((<usize>b * BS) << 2));
}

/** out[t][r] = sum_c W[r][c]·x[t][c] for rows r0 ≤ r < r1; scratch holds CHUNK floats. */
export function matmul_FMT(w: usize, x: usize, out: usize, rows: i32, cols: i32, nTokens: i32,
  r0: i32, r1: i32, scratch: usize): void {
  const nb = cols / BS;
  const rowBytes = <usize>nb * TS;
  const chunk = max(1, CHUNK / BS);
  for (let r = r0; r < r1; r++) {
    const o = out + (<usize>r << 2);
    zeroColumn(o, rows, nTokens);
    for (let b = 0; b < nb; b += chunk) {
      const n = min(chunk, nb - b);
      deq_FMT(w + <usize>r * rowBytes + <usize>b * TS, scratch, n);
      accumulateRow(scratch, x + ((<usize>b * BS) << 2), cols, o, rows, n * BS, nTokens);
    }
  }
}
