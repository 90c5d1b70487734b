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
