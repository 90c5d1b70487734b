// Which layers stay resident under a memory budget, and how much the streamed ones cost. Pure
// arithmetic on byte counts, shared by the loader (what to keep) and the pre-flight (what a budget
// implies), so both read the same numbers. Policy: the first layers stay resident; the rest take
// turns in two slots, each as large as the largest layer, double-buffered (the next layer's
// bytes are read while the current one computes).

export const STREAM_SLOTS = 2;

export interface ResidencyPlan {
  /** resident[l]: layer l is held for the whole run; the others stream through the slots */
  resident: boolean[];
  /** bytes of one streaming slot (0 when every layer is resident) */
  slotBytes: number;
  /** weight bytes held: fixed + resident layers + STREAM_SLOTS × slotBytes */
  heldBytes: number;
  /** weight bytes read from storage on every forward pass */
  streamedBytesPerPass: number;
}

/**
 * The plan for weights of `layerBytes` per layer plus `fixedBytes` (embeddings, head, norms) in a
 * weight budget of `budgetBytes`; null when even streaming cannot fit (fixed + two slots > budget).
 */
export function planResidency(layerBytes: readonly number[], fixedBytes: number, budgetBytes: number): ResidencyPlan | null {
  const all = fixedBytes + layerBytes.reduce((a, b) => a + b, 0);
  if (all <= budgetBytes) {
    return { resident: layerBytes.map(() => true), slotBytes: 0, heldBytes: all, streamedBytesPerPass: 0 };
  }
  const slotBytes = Math.max(0, ...layerBytes);
  let held = fixedBytes + STREAM_SLOTS * slotBytes;
  if (held > budgetBytes) return null;
  const resident = layerBytes.map(() => false);
  for (let l = 0; l < layerBytes.length && held + layerBytes[l] <= budgetBytes; l++) {
    resident[l] = true;
    held += layerBytes[l];
  }
  const streamed = layerBytes.reduce((a, b, l) => a + (resident[l] ? 0 : b), 0);
  return { resident, slotBytes, heldBytes: held, streamedBytesPerPass: streamed };
}
