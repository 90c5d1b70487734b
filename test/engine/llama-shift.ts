// llama.cpp's own context shift (node-llama-cpp, CPU), the reference for context-shift tests.
import type { ControlledEvaluateInputItem, Llama, Token } from 'node-llama-cpp';

/** Next-token distributions for ids[nCtx..] by llama.cpp after its sequence erases [keep, keep + discard) (seq_rm + seq_add: the K-shift). */
export async function llamaAcrossShift(llama: Llama, file: string, ids: number[], nCtx: number, keep: number, V: number): Promise<Float64Array[]> {
  const model = await llama.loadModel({ modelPath: file });
  try {
    // room beyond nCtx: node-llama-cpp shifts on its own when a sequence fills its context; ours is the only shift here
    const ctx = await model.createContext({ contextSize: nCtx + 32, batchSize: 512, threads: 2 });
    const seq = ctx.getSequence();
    await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, nCtx) as Token[]);
    await seq.eraseContextTokenRanges([{ start: keep, end: keep + Math.floor((nCtx - keep) / 2) }]);
    const rest = ids.slice(nCtx) as Token[];
    const out = await seq.controlledEvaluate(rest.map((id): ControlledEvaluateInputItem => [id, { generateNext: { probabilities: true } }]));
    await ctx.dispose();
    return rest.map((_, i) => {
      const p = new Float64Array(V);
      for (const [id, v] of out[i]!.next.probabilities!) p[id] = v;
      return p;
    });
  } finally {
    await model.dispose();
  }
}

