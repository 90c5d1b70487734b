import type { NamedTemplateSpec } from './types.ts';

// zephyr-7b-beta's template (written for trim_blocks, so the newline after each `}}` is kept).
export const zephyr: NamedTemplateSpec = {
  name: 'zephyr',
  template:
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
  stop: ['</s>'],
};
