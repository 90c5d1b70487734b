// llama.cpp's perplexity as the fixture refs define it (see ../shared/fixtures/arch/README.md): ids in one
// context, evaluated 16 tokens at a time, plain softmax of the next token.
import type { ControlledEvaluateInputItem, Llama, LlamaModel, Token } from 'node-llama-cpp';

/** ppl of `ids` under an already loaded node-llama-cpp model (a fresh 512-token context, disposed after). */
export async function llamaCppSlicedPpl(m: LlamaModel, ids: number[]): Promise<number> {
  const ctx = await m.createContext({ contextSize: 512, batchSize: 512, threads: 2 });
  try {
    const seq = ctx.getSequence();
    let nll = 0;
    for (let start = 0; start < ids.length - 1; start += 16) {
      const slice = ids.slice(start, Math.min(ids.length - 1, start + 16)) as Token[];
      const o = await seq.controlledEvaluate(slice.map((id): ControlledEvaluateInputItem => [id, { generateNext: { probabilities: true } }]));
      slice.forEach((_, i) => { nll -= Math.log(o[i]!.next.probabilities!.get(ids[start + i + 1] as Token)!); });
    }
    return Math.exp(nll / (ids.length - 1));
  } finally { await ctx.dispose(); }
}

/** llamaCppSlicedPpl of the GGUF at `gguf` (loaded for this call only). */
export async function llamaCppFilePpl(llama: Llama, gguf: string, ids: number[]): Promise<number> {
  const m = await llama.loadModel({ modelPath: gguf });
  try { return await llamaCppSlicedPpl(m, ids); } finally { await m.dispose(); }
}
