// Thinking through the prompt builder, on the real Qwen3 template stored in the qwen3 fixture GGUF:
// enable_thinking, a generation prompt that opens the block, and past reasoning on re-rendering.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildChatPrompt, hasThinkingToggle } from '../../src/engine/chat.ts';
import type { ChatMessage } from '../../src/engine/chat-template.ts';
import { openTokenizer, type LoadedModel } from '../../src/engine/load.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';
import { thinkingOpenedTemplate } from '../thinking-template.ts';

async function vocabModel(file: string, arch: string): Promise<LoadedModel> {
  const { file: f, tokenizer } = await openTokenizer(await openNodeFiles(file));
  const tpl = f.metadata.get('tokenizer.chat_template');
  await f.close();
  return { tokenizer, chatTemplate: typeof tpl === 'string' ? tpl : null, arch: { name: arch } } as unknown as LoadedModel;
}

let qwen3: LoadedModel;
beforeAll(async () => { qwen3 = await vocabModel(fixture('arch', 'dev-qwen3.Q8_0.gguf'), 'qwen3'); });

const text = (m: LoadedModel, ids: number[]): string => m.tokenizer.decode(ids, { special: true });
const ask: ChatMessage[] = [{ role: 'user', content: 'Hi' }];

describe('thinking in prompts (Qwen3 template from the GGUF)', () => {
  it('thinking on: plain assistant opening, the model may open <think> itself', () => {
    const p = buildChatPrompt(qwen3, ask);
    expect(text(qwen3, p.promptIds)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(p.startsInReasoning).toBe(false);
    expect(hasThinkingToggle(qwen3, { kind: 'model', template: qwen3.chatTemplate! })).toBe(true);
  });

  it('thinking off: the template writes an empty block, so the answer is not thinking', () => {
    const p = buildChatPrompt(qwen3, ask, undefined, { enableThinking: false });
    expect(text(qwen3, p.promptIds)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
    expect(p.startsInReasoning).toBe(false);
    // <think> and </think> are single tokens of the Qwen3 vocabulary, parsed as such
    const t = qwen3.tokenizer;
    for (const s of ['<|im_start|>', '<|im_end|>', '<think>', '</think>']) expect(p.promptIds).toContain(t.tokenId(s));
  });

  it('a template whose generation prompt opens <think> starts the answer inside thinking', () => {
    const template = thinkingOpenedTemplate(qwen3.chatTemplate!);
    const choice = { kind: 'model', template } as const;
    const p = buildChatPrompt(qwen3, ask, choice);
    expect(text(qwen3, p.promptIds)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n');
    expect(p.startsInReasoning).toBe(true);
    expect(hasThinkingToggle(qwen3, choice)).toBe(true);
    expect(buildChatPrompt(qwen3, ask, choice, { enableThinking: false }).startsInReasoning).toBe(false);
  });

  it('past reasoning goes to the template, which drops it from earlier turns', () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!', reasoning_content: 'Greet back.' },
      { role: 'user', content: 'Bye' },
    ];
    expect(text(qwen3, buildChatPrompt(qwen3, history).promptIds)).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n');
  });

  it('templates that do not read enable_thinking have no toggle (Llama 3.2)', async () => {
    const llama = await vocabModel(fixture('arch', 'dev-llama32.Q8_0.gguf'), 'llama');
    expect(hasThinkingToggle(llama, { kind: 'model', template: llama.chatTemplate! })).toBe(false);
    expect(hasThinkingToggle(llama, null)).toBe(false);
    expect(buildChatPrompt(llama, ask, undefined, { now: () => new Date(2025, 2, 5) }).startsInReasoning).toBe(false);
  });
});
