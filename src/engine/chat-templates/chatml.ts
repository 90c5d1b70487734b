import type { NamedTemplateSpec } from './types.ts';

// Plain ChatML (as in OpenHermes-2.5); Qwen models speak it too.
export const chatml: NamedTemplateSpec = {
  name: 'chatml',
  template:
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
  stop: ['<|im_end|>'],
};
