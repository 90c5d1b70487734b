import type { NamedTemplateSpec } from './types.ts';

// Mistral-7B-Instruct v0.1/v0.2: no system role (the renderer merges it into the first user turn).
export const mistral: NamedTemplateSpec = {
  name: 'mistral',
  template:
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
  stop: [],
};
