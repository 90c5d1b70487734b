// Which engine answers (this device, a remote server, WebLLM) and the remote server's address, key and
// model, kept in localStorage so a reload comes back to the same engine. The API key is stored in
// plain text there (the Engine panel says so): it is the browser profile's to protect.
import type { EngineKind } from '../../worker/api.ts';

export interface RemoteConfig {
  url: string;
  apiKey: string;
  /** the model picked from the server's /v1/models */
  model: string;
}

export interface EngineChoice {
  kind: EngineKind;
  remote: RemoteConfig;
}

const KEY = 'edge-llm:engine';
const DEFAULT: EngineChoice = { kind: 'local', remote: { url: '', apiKey: '', model: '' } };
const KINDS: EngineKind[] = ['local', 'remote', 'webllm'];

export function loadEngineChoice(): EngineChoice {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<EngineChoice> | null;
    if (!raw) return DEFAULT;
    const r = (raw.remote ?? {}) as Partial<RemoteConfig>;
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    return {
      kind: KINDS.includes(raw.kind as EngineKind) ? raw.kind as EngineKind : 'local',
      remote: { url: str(r.url), apiKey: str(r.apiKey), model: str(r.model) },
    };
  } catch {
    return DEFAULT;
  }
}

export function saveEngineChoice(c: EngineChoice): void {
  localStorage.setItem(KEY, JSON.stringify(c));
}
