// The engine that answers the chat right now, whichever it is: what use-chat, the composer, the top
// bar and the welcome text need to know about it.
import type { ChatEngine, EngineKind, EngineModel } from '../../worker/api.ts';
import type { Models } from './use-models.ts';
import type { Remote } from './use-remote.ts';

export interface ActiveEngine {
  kind: EngineKind;
  /** null until it can answer (a local model loaded; a remote server connected with a model picked) */
  engine: ChatEngine | null;
  /** shown as the author of answers */
  modelName?: string;
  /** the top bar's status line */
  status: string;
  /** the model's template reads enable_thinking, so the composer offers the Think toggle */
  thinkingToggle: boolean;
  /** a model without a chat template: it continues text */
  continuation: boolean;
  /** where messages go when not this device (for the welcome text) */
  host?: string;
  /** an answer failed with this error (the remote engine drops a connection the error shows is gone) */
  onError?(e: unknown): void;
}

/** This device's worker, once a model is loaded (the status text is the one the e2e tests wait for: `wasm ×N` / `webgpu`). */
export function localEngine(client: ChatEngine, models: Models): ActiveEngine {
  const { loaded, loading } = models;
  const status = loading ? `Loading ${loading.name}…`
    : loaded ? `${loaded.backend}${loaded.backend === 'wasm' ? ` ×${loaded.threads}` : ''}` : '';
  return {
    kind: 'local', engine: loaded && !loading ? client : null, modelName: loaded?.name, status,
    thinkingToggle: !!loaded?.thinkingToggle, continuation: loaded?.template === 'none',
  };
}

/** A remote server, once connected with a model picked. */
export function remoteEngine(remote: Remote): ActiveEngine {
  const { state, config, engine } = remote;
  const host = state.phase === 'connected' ? new URL(state.baseUrl).host : undefined;
  const name = state.phase === 'connected' ? state.models.find((m) => m.id === config.model)?.name ?? config.model : config.model;
  const status = state.phase === 'connecting' ? 'Remote server: connecting…'
    : engine ? `remote · ${name}` : 'Remote server: not connected';
  // the Think toggle only where the server shows a template that reads enable_thinking (llama-server's /props)
  const thinkingToggle = state.phase === 'connected' && state.thinkingToggle;
  return { kind: 'remote', engine, modelName: engine ? name : undefined, status, thinkingToggle, continuation: false, host, onError: remote.lost };
}

/** WebLLM's engine with the model it has loaded; null while none is. */
export type WebLLMActive = { engine: ChatEngine; model: EngineModel } | null;

/** WebLLM, once its panel has loaded a model. */
export function webllmEngine(w: WebLLMActive): ActiveEngine {
  const name = w ? w.model.name ?? w.model.id : undefined;
  return {
    kind: 'webllm', engine: w?.engine ?? null, modelName: name,
    status: w ? `webllm · ${name}` : 'WebLLM: no model loaded (Engine tab)', thinkingToggle: false, continuation: false,
  };
}
