// llama.cpp's own greedy continuation (node-llama-cpp, CPU): the reference the e2e answers are
// compared with. BOS + tokenize(text) as llama.cpp tokenizes plain text, argmax, no penalties,
// stopping at an end-of-generation token or after maxTokens.
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';

export async function llamaGreedy(file: string, text: string, maxTokens: number): Promise<string> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
  try {
    const model = await llama.loadModel({ modelPath: file });
    const ctx = await model.createContext({ contextSize: 512 });
    const out: Token[] = [];
    for await (const t of ctx.getSequence().evaluate([model.tokens.bos!, ...model.tokenize(text)], { temperature: 0 })) {
      if (model.isEogToken(t)) break;
      out.push(t);
      if (out.length >= maxTokens) break;
    }
    const result = model.detokenize(out);
    await ctx.dispose();
    await model.dispose();
    return result;
  } finally {
    await llama.dispose();
  }
}

/** Answers compare as shown: runs of whitespace as one space, trimmed. */
export const shown = (s: string): string => s.replace(/\s+/g, ' ').trim();
