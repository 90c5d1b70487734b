// The remote server connection: connect (GET /v1/models), pick a model, and the engine that chats with
// it. Editing the address or key drops the connection until Connect is pressed again; a reload with
// the remote engine chosen connects by itself once.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EngineModel } from '../../worker/api.ts';
import { RemoteEngine } from '../../worker/remote-engine.ts';
import type { RemoteConfig } from '../state/engine-choice.ts';
import { errorCode, errorMessage } from '../state/format.ts';

export type RemoteState =
  | { phase: 'idle' }
  | { phase: 'connecting' }
  /** thinkingToggle: the server's template reads enable_thinking (llama-server's /props says so) */
  | { phase: 'connected'; baseUrl: string; models: EngineModel[]; thinkingToggle: boolean }
  | { phase: 'error'; code: string; message: string };

export interface Remote {
  config: RemoteConfig;
  state: RemoteState;
  /** connected and a model picked */
  engine: RemoteEngine | null;
  edit(patch: Partial<Pick<RemoteConfig, 'url' | 'apiKey'>>): void;
  connect(): Promise<void>;
  pick(model: string): void;
  /**
   * An answer failed: when the error says the server is gone, refuses the key or lacks the model, the
   * connection is dropped so the panel and the top bar say so (a failure mid-answer or being offline
   * does not: the next message may well work).
   */
  lost(e: unknown): void;
}

const CONNECTION_LOST = new Set(['REMOTE_UNREACHABLE', 'REMOTE_UNAUTHORIZED', 'REMOTE_MODEL_MISSING', 'REMOTE_CORS']);

export function useRemote(config: RemoteConfig, update: (patch: Partial<RemoteConfig>) => void, active: boolean): Remote {
  const [state, setState] = useState<RemoteState>({ phase: 'idle' });
  // Only the latest attempt may set the state: an edit or a second Connect outdates the one in flight.
  const attempt = useRef(0);
  const autoConnected = useRef(false);

  const connect = useCallback(async () => {
    const n = ++attempt.current;
    setState({ phase: 'connecting' });
    try {
      const probe = new RemoteEngine({ baseUrl: config.url, apiKey: config.apiKey });
      const models = await probe.listModels();
      const thinkingToggle = await probe.templateReadsThinking();
      if (n !== attempt.current) return;
      setState({ phase: 'connected', baseUrl: probe.baseUrl, models, thinkingToggle });
      if (!models.some((m) => m.id === config.model)) update({ model: models[0]?.id ?? '' });
    } catch (e) {
      if (n === attempt.current) setState({ phase: 'error', code: errorCode(e) ?? 'REMOTE_FAILED', message: errorMessage(e) });
    }
  }, [config.url, config.apiKey, config.model, update]);

  useEffect(() => {
    if (!active || autoConnected.current || !config.url) return;
    autoConnected.current = true;
    void connect();
  }, [active, config.url, connect]);

  const edit = useCallback((patch: Partial<Pick<RemoteConfig, 'url' | 'apiKey'>>) => {
    attempt.current++;
    setState({ phase: 'idle' });
    update(patch);
  }, [update]);

  const pick = useCallback((model: string) => update({ model }), [update]);

  const engine = useMemo(() => (state.phase === 'connected' && config.model
    ? new RemoteEngine({ baseUrl: state.baseUrl, apiKey: config.apiKey, model: config.model }) : null),
  [state, config.apiKey, config.model]);

  const lost = useCallback((e: unknown) => {
    const code = errorCode(e);
    if (!code || !CONNECTION_LOST.has(code)) return;
    attempt.current++;
    setState({ phase: 'error', code, message: errorMessage(e) });
  }, []);

  return { config, state, engine, edit, connect, pick, lost };
}
