// Chat prompts from MLC-LLM's conv_template (mlc-chat-config.json), rendered as mlc-llm's
// Conversation.as_prompt() does. The object is rendered directly rather than turned into Jinja:
// it is plain concatenation of its fields, so a Jinja translation would only add a layer of string
// escaping that could go wrong, and the result would still need the prefix ids and stop ids beside it.
// Older folders name a template of mlc-llm's registry instead; names whose turns match one of our
// built-in templates map onto it (mlc-llm's default system messages are not added).
import type { ConvTemplate } from '../formats/mlc/conv-template.ts';
import type { ChatMessage } from './chat-template.ts';
import type { NamedTemplate } from './chat-templates/index.ts';

export type { ConvTemplate } from '../formats/mlc/conv-template.ts';

const PLACEHOLDER = { system: '{system_message}', user: '{user_message}', assistant: '{assistant_message}' } as const;

/**
 * as_prompt(): the system text (the conversation's system messages, else the template's default),
 * then each turn as role + role_content_sep + content + its sep; the generation prompt is an empty
 * assistant turn (role + role_empty_sep). The prefix ids (BOS) are the caller's to add.
 */
export function renderConvTemplate(t: ConvTemplate, messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const systemText = t.systemTemplate.replace(PLACEHOLDER.system, system.length > 0 ? system.join('\n') : t.systemMessage);
  let out = systemText;
  messages.filter((m) => m.role !== 'system').forEach((m, i) => {
    const role = m.role as 'user' | 'assistant';
    // without add_role_after_system_message the system text already opens the first turn (Llama 2's [INST])
    const prefix = !t.addRoleAfterSystemMessage && systemText !== '' && i === 0 ? '' : t.roles[role] + t.roleContentSep;
    const body = (t.roleTemplates[role] ?? PLACEHOLDER[role]).replace(PLACEHOLDER[role], m.content);
    out += prefix + body + t.seps[role === 'assistant' ? 1 : 0];
  });
  if (addGenerationPrompt) out += t.roles.assistant + t.roleEmptySep;
  return out;
}

/** mlc-llm registry names whose turn format is that of one of our built-in templates. */
const MLC_NAMES: Record<string, NamedTemplate> = {
  'llama-3': 'llama3', 'llama-3_1': 'llama3',
  'chatml': 'chatml', 'chatml_nosystem': 'chatml', 'qwen2': 'chatml',
  'gemma_instruction': 'gemma',
  'phi-3': 'phi3',
  'llama-2': 'llama2',
  'mistral_default': 'mistral',
};

export function namedForMLC(name: string): NamedTemplate | undefined {
  return Object.hasOwn(MLC_NAMES, name) ? MLC_NAMES[name] : undefined;
}
