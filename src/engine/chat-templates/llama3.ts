import type { NamedTemplateSpec } from './types.ts';

// Meta-Llama-3-8B-Instruct's template (tokenizer_config.json), add_generation_prompt-aware.
export const llama3: NamedTemplateSpec = {
  name: 'llama3',
  template:
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
  stop: ['<|eot_id|>'],
};
