// Reading one cached value of a KV layer buffer, whatever its element type; shared by attention
// and kv-shift (prepended by shader-source.ts). The including op's uniform `p` has kv_dim and
// slots. KV_TYPE 0: f32 bits per word; 1: two f16 per word; 2: q8_0 in two planes (buffers.ts
// gpuKVRowBytes: int8 quants 4 per word, then f16 block scales 2 per word, rows padded to words).
override KV_TYPE: u32 = 0u;

// word of the row's values holding value col of ring slot `slot`
fn kv_word(slot: u32, col: u32) -> u32 {
  let idx = slot * p.kv_dim + col;
  if (KV_TYPE == 2u) { return idx >> 2u; }
  return select(idx, idx >> 1u, KV_TYPE == 1u);
}
// q8_0 only: word of the scale plane holding the block scale of that value
fn kv_scale_word(slot: u32, col: u32) -> u32 {
  return p.slots * (p.kv_dim / 4u) + slot * ((p.kv_dim / 32u + 1u) / 2u) + (col >> 6u);
}
fn kv_value(word: u32, scale_word: u32, col: u32) -> f32 {
  if (KV_TYPE == 2u) {
    return f32(extractBits(bitcast<i32>(word), 8u * (col & 3u), 8u)) * unpack2x16float(scale_word)[(col >> 5u) & 1u];
  }
  if (KV_TYPE == 1u) { return unpack2x16float(word)[col & 1u]; }
  return bitcast<f32>(word);
}
