// Shared by unit and e2e tests: a real template whose generation prompt opens the thinking block.

/**
 * Qwen3's *-Thinking-2507 models ship the Qwen3 template except that the generation prompt opens the
 * thinking block, `<|im_start|>assistant\n<think>\n` (as Qwen3.5's and DeepSeek-R1's templates do);
 * made here from the hybrid Qwen3 template by swapping that last block.
 */
export function thinkingOpenedTemplate(qwen3: string): string {
  const gen = /\{%- if add_generation_prompt %\}[\s\S]*\{%- endif %\}\s*$/;
  if (!gen.test(qwen3)) throw new Error('unexpected Qwen3 template: no trailing add_generation_prompt block');
  return qwen3.replace(gen, "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n<think>\\n' }}\n{%- endif %}\n");
}
