// Registry of the built-in chat templates, selectable by name.
import { chatml } from './chatml.ts';
import { gemma } from './gemma.ts';
import { llama2 } from './llama2.ts';
import { llama3 } from './llama3.ts';
import { mistral } from './mistral.ts';
import { phi3 } from './phi3.ts';
import type { NamedTemplateSpec } from './types.ts';
import { zephyr } from './zephyr.ts';

export type { NamedTemplateSpec } from './types.ts';

export const NAMED_TEMPLATES = { llama3, chatml, llama2, mistral, gemma, phi3, zephyr } as const satisfies Record<string, NamedTemplateSpec>;

export type NamedTemplate = keyof typeof NAMED_TEMPLATES;

export function isNamedTemplate(name: string): name is NamedTemplate {
  return Object.hasOwn(NAMED_TEMPLATES, name);
}
