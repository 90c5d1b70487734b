// llama.cpp's own greedy continuation (node-llama-cpp, CPU): the reference our answers are compared
// with. BOS + tokenize(text) as llama.cpp tokenizes plain text (or given token ids), argmax, no
// penalties, stopping at an end-of-generation token or after maxTokens.
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';

/** Greedy continuation of exactly these token ids: the generated ids and their text. */
export async function llamaGreedyIds(file: string, prompt: readonly number[], maxTokens: number, contextSize = 512):
  Promise<{ ids: number[]; text: string }> {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.disabled });
  try {
    const model = await llama.loadModel({ modelPath: file });
    const ctx = await model.createContext({ contextSize, threads: 1 });
    const out: Token[] = [];
    for await (const t of ctx.getSequence().evaluate(prompt as Token[], { temperature: 0 })) {
      if (model.isEogToken(t)) break;
      out.push(t);
      if (out.length >= maxTokens) break;
    }
    const text = model.detokenize(out);
    await ctx.dispose();
    await model.dispose();
    return { ids: out.map(Number), text };
  } finally {
    await llama.dispose();
  }
}

export async function llamaGreedy(file: string, text: string, maxTokens: number): Promise<string> {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.disabled });
  let prompt: number[];
  try {
    const model = await llama.loadModel({ modelPath: file });
    prompt = [model.tokens.bos!, ...model.tokenize(text)].map(Number);
    await model.dispose();
  } finally {
    await llama.dispose();
  }
  return (await llamaGreedyIds(file, prompt, maxTokens)).text;
}

/** Answers compare as shown: runs of whitespace as one space, trimmed. */
export const shown = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * llama.cpp's greedy continuation up to its first near-tie: the step where the top two tokens' logits
 * are within `minGap` (a log-probability difference), where another exact implementation may rightly
 * pick the other one (random weights have many; llama.cpp's 8-bit rounding of activations in quantized
 * dot products alone moves logits by about 1e-2). `ids`/`text`: the tokens before it, all of them if no
 * step was that close (`tie` false). An answer must start with `text`, and equal it when `tie` is false.
 */
export async function llamaGreedyToTie(file: string, prompt: readonly number[], maxTokens: number, minGap = 0.02, contextSize = 512):
  Promise<{ ids: number[]; text: string; tie: boolean }> {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.disabled });
  try {
    const model = await llama.loadModel({ modelPath: file });
    const ctx = await model.createContext({ contextSize, threads: 1 });
    const out: Token[] = [];
    let tie = false;
    for await (const o of ctx.getSequence().evaluateWithMetadata(prompt as Token[], { probabilities: true }, { temperature: 0 })) {
      let [p1, p2] = [0, 0];
      for (const p of o.probabilities.values()) if (p > p1) [p1, p2] = [p, p1]; else if (p > p2) p2 = p;
      if (Math.log(p1) - Math.log(p2) < minGap) { tie = true; break; }
      if (model.isEogToken(o.token)) break;
      out.push(o.token);
      if (out.length >= maxTokens) break;
    }
    // an unfinished UTF-8 sequence at the cut decodes to U+FFFD here, to the whole character in the answer
    const text = model.detokenize(out).replace(/\uFFFD+$/, (m) => (tie ? '' : m));
    await ctx.dispose();
    await model.dispose();
    return { ids: out.map(Number), text, tie };
  } finally {
    await llama.dispose();
  }
}
