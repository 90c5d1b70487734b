// Shared by unit and e2e tests: a real template whose generation prompt opens the thinking block.

/**
 * The Qwen3 template with Qwen3.5's generation prompt (llama.cpp models/templates/Qwen3.5-4B.jinja):
 * `<|im_start|>assistant\n<think>\n` with thinking on, an empty closed block with it off, so the
 * answer of a model that never writes <think> itself still starts inside thinking.
 */
export function thinkingOpenedTemplate(qwen3: string): string {
  const gen = /\{%- if add_generation_prompt %\}[\s\S]*\{%- endif %\}\s*$/;
  if (!gen.test(qwen3)) throw new Error('unexpected Qwen3 template: no trailing add_generation_prompt block');
  return qwen3.replace(gen, [
    '{%- if add_generation_prompt %}',
    "    {{- '<|im_start|>assistant\\n' }}",
    '    {%- if enable_thinking is defined and enable_thinking is false %}',
    "        {{- '<think>\\n\\n</think>\\n\\n' }}",
    '    {%- else %}',
    "        {{- '<think>\\n' }}",
    '    {%- endif %}',
    '{%- endif %}',
    '',
  ].join('\n'));
}
