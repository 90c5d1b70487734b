// MLC-LLM's conv_template (mlc-chat-config.json) in its object form: mlc-llm's Conversation protocol
// (python/mlc_llm/protocol/conversation_protocol.py), checked field by field when the folder is
// opened, so a malformed one fails at load naming the file. engine/conv-template.ts renders it.
import { EngineError } from '../../shared/errors.ts';

export interface ConvTemplate {
  name: string;
  /** text around the system message, with `{system_message}` where it goes */
  systemTemplate: string;
  /** the template's default system message, used when the conversation has none */
  systemMessage: string;
  /** ids put before the rendered text (usually BOS); mlc-llm adds no other special tokens */
  systemPrefixTokenIds: number[];
  /** false: the first turn after a (non-empty) system text goes without its role prefix (Llama 2) */
  addRoleAfterSystemMessage: boolean;
  roles: { user: string; assistant: string };
  /** per-role text with `{user_message}` / `{assistant_message}` where the content goes */
  roleTemplates: Partial<Record<'user' | 'assistant', string>>;
  /** separator after a user turn, after an assistant turn (a single sep serves both) */
  seps: [string, string];
  roleContentSep: string;
  roleEmptySep: string;
  stopStr: string[];
  stopTokenIds: number[];
}

type Raw = Record<string, unknown>;

/** Validates the raw conv_template object (defaults as mlc-llm's pydantic model); `file` names the config in errors. */
export function parseConvTemplate(raw: Raw, file: string): ConvTemplate {
  const bad = (what: string): never => {
    throw new EngineError('MLC_CORRUPT', `${file}: conv_template ${what}.`);
  };
  const str = (k: string, dflt: string): string => {
    const v = raw[k] ?? dflt;
    return typeof v === 'string' ? v : bad(`"${k}" must be a string`);
  };
  const strs = (k: string): string[] => {
    const v = raw[k] ?? [];
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : bad(`"${k}" must be a list of strings`);
  };
  const ids = (k: string): number[] => {
    const v = raw[k] ?? [];
    return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0) ? v : bad(`"${k}" must be a list of token ids`);
  };
  const roles = raw.roles as Raw | undefined;
  if (!roles || typeof roles !== 'object' || typeof roles.user !== 'string' || typeof roles.assistant !== 'string') {
    bad('"roles" needs "user" and "assistant" strings');
  }
  const seps = strs('seps');
  if (seps.length < 1 || seps.length > 2) bad('"seps" must hold one or two strings');
  const rt = raw.role_templates ?? {};
  if (typeof rt !== 'object' || rt === null) bad('"role_templates" must be an object');
  const roleTemplates: ConvTemplate['roleTemplates'] = {};
  for (const r of ['user', 'assistant'] as const) {
    const v = (rt as Raw)[r];
    if (v === undefined) continue;
    if (typeof v !== 'string') bad(`"role_templates.${r}" must be a string`);
    roleTemplates[r] = v as string;
  }
  const addRole = raw.add_role_after_system_message ?? true;
  if (typeof addRole !== 'boolean') bad('"add_role_after_system_message" must be true or false');
  return {
    name: str('name', 'custom'),
    systemTemplate: str('system_template', '{system_message}'),
    systemMessage: str('system_message', ''),
    systemPrefixTokenIds: ids('system_prefix_token_ids'),
    addRoleAfterSystemMessage: addRole as boolean,
    roles: { user: roles!.user as string, assistant: roles!.assistant as string },
    roleTemplates,
    seps: [seps[0], seps[seps.length - 1]],
    roleContentSep: str('role_content_sep', ''),
    roleEmptySep: str('role_empty_sep', ''),
    stopStr: strs('stop_str'),
    stopTokenIds: ids('stop_token_ids'),
  };
}

/** conv_template as it stands in the file: a full object, a registry name (older folders), or absent. */
export function readConvTemplate(v: unknown, file: string): ConvTemplate | string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v)) return parseConvTemplate(v as Raw, file);
  throw new EngineError('MLC_CORRUPT', `${file}: conv_template must be a template name or an object (got ${Array.isArray(v) ? 'a list' : typeof v}).`);
}
