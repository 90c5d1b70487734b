// The row moves of a context shift on the WASM KV cache (bytes only; the keys' rotation is the
// backend's rope kernel). A layer whose ring holds the whole context moves its kept rows down with
// one memmove; a sliding-window ring keeps position p in slot p % slots, so moving every position
// down by `discard` is a rotation of its slots, done in place (three reversals, one row of temp).
import { shiftedPositions } from '../kv-layout.ts';

/** Slot runs [first, count) that hold moved keys after moveRows: what the rotation must turn. */
export type SlotRun = readonly [first: number, count: number];

export function moveRows(u8: Uint8Array, base: number, rowBytes: number, slots: number,
  keep: number, discard: number, end: number): SlotRun[] {
  const [lo, hi] = shiftedPositions(slots, keep, discard, end);
  if (slots >= end) {
    u8.copyWithin(base + keep * rowBytes, base + (keep + discard) * rowBytes, base + end * rowBytes);
    return hi > lo ? [[lo, hi - lo]] : [];
  }
  rotateLeft(u8, base, rowBytes, slots, discard % slots);
  // at most `slots` moved positions: one run of slots, or two where it wraps
  if (hi <= lo) return [];
  const first = lo % slots, count = hi - lo;
  return first + count <= slots ? [[first, count]] : [[first, slots - first], [0, count - (slots - first)]];
}

/** Row i moves to row (i − r) mod n. */
function rotateLeft(u8: Uint8Array, base: number, rowBytes: number, n: number, r: number): void {
  if (r === 0) return;
  const tmp = new Uint8Array(rowBytes);
  reverseRows(u8, base, rowBytes, 0, r, tmp);
  reverseRows(u8, base, rowBytes, r, n, tmp);
  reverseRows(u8, base, rowBytes, 0, n, tmp);
}

function reverseRows(u8: Uint8Array, base: number, rowBytes: number, from: number, to: number, tmp: Uint8Array): void {
  for (let i = from, j = to - 1; i < j; i++, j--) {
    const a = base + i * rowBytes, b = base + j * rowBytes;
    tmp.set(u8.subarray(a, a + rowBytes));
    u8.copyWithin(a, b, b + rowBytes);
    u8.set(tmp, b);
  }
}
