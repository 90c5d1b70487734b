import { describe, expect, it } from 'vitest';
import { buildChatPrompt, chooseTemplate } from '../../src/engine/chat.ts';
import { openTokenizer, type LoadedModel } from '../../src/engine/load.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';

/** buildChatPrompt reads only the tokenizer, template and architecture of a model. */
async function vocabModel(file: string, arch: string): Promise<LoadedModel> {
  const { file: f, tokenizer } = await openTokenizer(await openNodeFiles(file));
  const tpl = f.metadata.get('tokenizer.chat_template');
  await f.close();
  return { tokenizer, chatTemplate: typeof tpl === 'string' ? tpl : null, arch: { name: arch } } as unknown as LoadedModel;
}

describe('buildChatPrompt', () => {
  it("uses the GGUF's own template (phi-3), special tokens parsed, one BOS", async () => {
    const m = await vocabModel(fixture('tokenizers', 'llama.cpp', 'ggml-vocab-phi-3.gguf'), 'phi3');
    const p = buildChatPrompt(m, [{ role: 'user', content: 'Hello' }]);
    const t = m.tokenizer;
    expect(chooseTemplate(m)?.kind).toBe('model');
    expect(p.promptIds.filter((id) => id === t.bosId).length).toBeLessThanOrEqual(1);
    const text = t.decode(p.promptIds, { special: true });
    expect(text).toContain('<|user|>');
    expect(text).toContain('<|assistant|>');
    expect(p.promptIds).toContain(t.tokenId('<|user|>'));
  });

  it('falls back by architecture (qwen2 → chatml) and passes its end-of-turn stop', async () => {
    const m = await vocabModel(fixture('quant', 'dev-qwen2-tied.Q8_0.gguf'), 'qwen2');
    const p = buildChatPrompt(m, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
    expect(chooseTemplate(m)).toMatchObject({ kind: 'named', name: 'chatml' });
    expect(p.stop).toEqual(['<|im_end|>']);
    expect(m.tokenizer.decode(p.promptIds)).toContain('<|im_start|>assistant\n');
  });

  it('no template: plain continuation of the text (stories260K)', async () => {
    const m = await vocabModel(fixture('models', 'stories260K.gguf'), 'llama');
    const p = buildChatPrompt(m, [{ role: 'user', content: 'Once upon a time' }]);
    expect(chooseTemplate(m)).toBeNull();
    expect(p).toEqual({ promptIds: [1, 403, 407, 261, 378], stop: [], stopIds: [], startsInReasoning: false, nKeep: 1 });
    // user text is never parsed as a control token when there is no template
    expect(buildChatPrompt(m, [{ role: 'user', content: '<s>' }]).promptIds.slice(1)).not.toContain(1);
  });
});

describe('buildChatPrompt errors', () => {
  it('an empty conversation and one longer than the context are typed errors', async () => {
    const m = await vocabModel(fixture('models', 'stories260K.gguf'), 'llama');
    expect(() => buildChatPrompt(m, [{ role: 'user', content: '' }])).toThrow(/prompt is empty/);
    const small = { ...m, decoder: { opts: { nCtx: 8 } } } as unknown as LoadedModel;
    expect(() => buildChatPrompt(small, [{ role: 'user', content: 'Once upon a time there was a girl' }]))
      .toThrow(expect.objectContaining({ code: 'CONTEXT_FULL' }));
    // with context shift the session cuts it instead
    expect(buildChatPrompt(small, [{ role: 'user', content: 'Once upon a time there was a girl' }], undefined, { contextShift: true })
      .promptIds.length).toBeGreaterThan(8);
  });
});
