// User settings (system prompt, sampling, backend, KV cache type), kept in localStorage: small and synchronous.
import type { LoadOptions } from '../../worker/api.ts';

/** The sampler settings; null = not set here: the model's own default (general.sampling.*, mlc-chat-config), else the engine's. */
export type SamplingKey = 'temperature' | 'topP' | 'topK' | 'minP' | 'repeatPenalty';

export interface Settings extends Record<SamplingKey, number | null> {
  systemPrompt: string;
  maxTokens: number;
  /** empty = random each time */
  seed: string;
  backend: NonNullable<LoadOptions['backend']>;
  /** KV cache element type (q8_0 halves the f16 cache's memory) */
  kvType: NonNullable<LoadOptions['kvType']>;
  /** device memory cap for the engine in MiB (0 = none); weights past it stream layer by layer */
  maxMemoryMiB: number;
  /** enable_thinking, for models whose template can switch thinking off (Qwen3 …) */
  thinking: boolean;
  /** context length in tokens; 0 = the model's own, at most 4096 (applies at the next load) */
  contextLength: number;
  /** a chat longer than the context drops its oldest half (after the system prompt) instead of ending */
  contextShift: boolean;
}

// No default system prompt: story models continue plain text, and a system line would become
// part of the story.
export const DEFAULT_SETTINGS: Settings = {
  systemPrompt: '',
  temperature: null,
  topP: null,
  topK: null,
  minP: null,
  repeatPenalty: null,
  maxTokens: 256,
  seed: '',
  backend: 'auto',
  kvType: 'f16',
  maxMemoryMiB: 0,
  thinking: true,
  contextLength: 0,
  contextShift: true,
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
