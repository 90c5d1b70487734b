// MLC-LLM's conv_template (mlc-chat-config.json): the object form of mlc-llm's Conversation protocol,
// rendered the way its as_prompt() does. Older folders carry a bare name instead; those are left to
// the caller to map onto a named template.

import { EngineError } from '../shared/errors.ts';
import type { ChatMessage } from './chat-template.ts';

export interface ConvTemplate {
  name: string;
  systemTemplate: string;
  systemMessage: string;
  /** ids put before the rendered text (usually BOS) */
  systemPrefixTokenIds: number[];
  addRoleAfterSystemMessage: boolean;
  roles: { user: string; assistant: string };
  roleTemplates: Partial<Record<'user' | 'assistant', string>>;
  /** separator after a user turn, after an assistant turn (one sep serves both) */
  seps: [string, string];
  roleContentSep: string;
  roleEmptySep: string;
  stopStr: string[];
  stopTokenIds: number[];
}

const PLACEHOLDER = { system: '{system_message}', user: '{user_message}', assistant: '{assistant_message}' } as const;

/** Validates the raw conv_template object; `file` names the config in the error. */
export function parseConvTemplate(raw: Record<string, unknown>, file: string): ConvTemplate {
  const bad = (what: string): never => {
    throw new EngineError('MLC_CORRUPT', `${file}: conv_template ${what}`);
  };
  const str = (k: string, dflt?: string): string => {
    const v = raw[k] ?? dflt;
    return typeof v === 'string' ? v : bad(`"${k}" must be a string`);
  };
  const strs = (k: string): string[] => {
    const v = raw[k] ?? [];
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : bad(`"${k}" must be a list of strings`);
  };
  const ids = (k: string): number[] => {
    const v = raw[k] ?? [];
    return Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? v : bad(`"${k}" must be a list of token ids`);
  };
  const roles = raw.roles as Record<string, unknown> | undefined;
  if (!roles || typeof roles.user !== 'string' || typeof roles.assistant !== 'string') bad('"roles" needs "user" and "assistant" strings');
  const seps = strs('seps');
  if (seps.length < 1 || seps.length > 2) bad('"seps" must hold one or two strings');
  const rt = (raw.role_templates ?? {}) as Record<string, unknown>;
  const roleTemplates: ConvTemplate['roleTemplates'] = {};
  for (const r of ['user', 'assistant'] as const) {
    if (rt[r] === undefined) continue;
    if (typeof rt[r] !== 'string') bad(`"role_templates.${r}" must be a string`);
    roleTemplates[r] = rt[r] as string;
  }
  const systemTemplate = str('system_template', PLACEHOLDER.system);
  return {
    name: str('name', 'custom'),
    systemTemplate,
    systemMessage: str('system_message', ''),
    systemPrefixTokenIds: ids('system_prefix_token_ids'),
    addRoleAfterSystemMessage: raw.add_role_after_system_message !== false,
    roles: { user: roles!.user as string, assistant: roles!.assistant as string },
    roleTemplates,
    seps: [seps[0], seps[seps.length - 1]],
    roleContentSep: str('role_content_sep', ''),
    roleEmptySep: str('role_empty_sep', ''),
    stopStr: strs('stop_str'),
    stopTokenIds: ids('stop_token_ids'),
  };
}

/**
 * as_prompt(): system text (the conversation's system message, else the template's default),
 * then each turn as role + role_content_sep + content + sep; the generation prompt is an empty
 * assistant turn (role + role_empty_sep).
 */
export function renderConvTemplate(t: ConvTemplate, messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const sysMsg = system.length > 0 ? system.join('\n') : t.systemMessage;
  let out = t.systemTemplate.replace(PLACEHOLDER.system, sysMsg);
  const turns = messages.filter((m) => m.role !== 'system');
  turns.forEach((m, i) => {
    const role = m.role as 'user' | 'assistant';
    const prefix = !t.addRoleAfterSystemMessage && i === 0 ? '' : t.roles[role] + t.roleContentSep;
    const body = (t.roleTemplates[role] ?? PLACEHOLDER[role]).replace(PLACEHOLDER[role], m.content);
    out += prefix + body + t.seps[role === 'assistant' ? 1 : 0];
  });
  if (addGenerationPrompt) out += t.roles.assistant + t.roleEmptySep;
  return out;
}
