// User settings (system prompt, sampling, backend), kept in localStorage: small and synchronous.
import type { LoadOptions } from '../../worker/api.ts';

export interface Settings {
  systemPrompt: string;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  repeatPenalty: number;
  maxTokens: number;
  /** empty = random each time */
  seed: string;
  backend: NonNullable<LoadOptions['backend']>;
  /** device memory cap for the engine in MiB (0 = none); weights past it stream layer by layer */
  maxMemoryMiB: number;
  /** enable_thinking, for models whose template can switch thinking off (Qwen3 …) */
  thinking: boolean;
}

// No default system prompt: story models continue plain text, and a system line would become
// part of the story.
export const DEFAULT_SETTINGS: Settings = {
  systemPrompt: '',
  temperature: 0.8,
  topP: 0.95,
  topK: 40,
  minP: 0.05,
  repeatPenalty: 1.0,
  maxTokens: 256,
  seed: '',
  backend: 'auto',
  maxMemoryMiB: 0,
  thinking: true,
};

const KEY = 'edge-llm:settings';

export function loadSettings(): Settings {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? { ...DEFAULT_SETTINGS, ...(JSON.parse(raw) as Partial<Settings>) } : { ...DEFAULT_SETTINGS };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(s: Settings): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}
