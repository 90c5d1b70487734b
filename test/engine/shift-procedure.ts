// The context-shift check both backends run (Node: context-shift.test.ts; Chromium/WebGPU:
// context-shift-webgpu.test.ts): fill the context, shift once, and give the next-token
// distributions of the tokens that follow.
import type { LoadedModel } from '../../src/engine/load.ts';

/** 'none': keys moved but not turned (a wrong shift); 'nope-too': NoPE layers' keys turned as well (llama.cpp's way). */
export type Turn = 'exact' | 'none' | 'nope-too';

export async function distributionsAcrossShift(m: LoadedModel, ids: number[], nCtx: number, keep: number,
  turn: Turn = 'exact'): Promise<Float64Array[]> {
  const d = m.decoder, V = m.h.vocabSize;
  await d.forward(Int32Array.from(ids.slice(0, nCtx)), 0, false);
  const discard = Math.floor((nCtx - keep) / 2);
  if (!d.canShift(keep, discard, nCtx)) throw new Error(`the cache cannot shift ${discard} after ${keep} of ${nCtx}`);
  if (turn === 'exact') {
    d.shift(keep, discard, nCtx);
  } else {
    const anyRope = d.plan.layers.find((P) => P.rope)?.rope ?? undefined;
    const scratch = d.backend.alloc(m.h.nHeadKV * m.h.headDim);
    d.plan.layers.forEach((P, l) => d.backend.shiftKV!(l, keep, discard, nCtx, { nHeadKV: m.h.nHeadKV, headDim: m.h.headDim,
      rope: turn === 'none' ? undefined : { ...(P.rope ?? anyRope!), attnFactor: 1 }, scratch }));
  }
  const rest = ids.slice(nCtx);
  const logits = await d.forward(Int32Array.from(rest), nCtx - discard, true);
  return rest.map((_, i) => softmax(logits.subarray(i * V, (i + 1) * V)));
}

export function softmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  const p = Float64Array.from(x, (v) => Math.exp(v - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / sum);
}
