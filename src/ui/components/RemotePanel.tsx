// A remote OpenAI-compatible server: address, optional API key, Connect (lists /v1/models), the model
// to chat with, and a clear state for each way connecting can fail.
import type { Remote } from '../hooks/use-remote.ts';

/** What each failure is called; the message under it says what to do. */
const TITLES: Record<string, string> = {
  REMOTE_UNREACHABLE: 'Server not reachable',
  REMOTE_UNAUTHORIZED: 'API key needed or refused',
  REMOTE_MODEL_MISSING: 'Model not on the server',
  REMOTE_CORS: 'Blocked by the browser (CORS)',
  OFFLINE: 'You are offline',
  REMOTE_FAILED: 'The server failed',
  BAD_ARGUMENT: 'Check the address',
};

export function RemotePanel({ remote, busy }: { remote: Remote; busy: boolean }) {
  const { config, state } = remote;
  return (
    <div className="settings remote">
      <form className="settings" onSubmit={(e) => { e.preventDefault(); if (!busy) void remote.connect(); }}>
        <label className="field">
          <span>Server address</span>
          <input type="url" inputMode="url" data-testid="remote-url" value={config.url} placeholder="http://192.168.1.20:8080"
            autoComplete="url" spellCheck={false} onChange={(e) => remote.edit({ url: e.target.value })} />
        </label>
        <label className="field">
          <span>API key (optional)</span>
          <input type="password" data-testid="remote-key" value={config.apiKey} autoComplete="off"
            placeholder="only if the server was started with one" onChange={(e) => remote.edit({ apiKey: e.target.value })} />
        </label>
        <p className="small muted">
          The address and key are kept in this browser&apos;s localStorage so a reload reconnects; anyone using this
          browser profile can read them. Messages you send go to this server.
        </p>
        <button type="submit" className="primary" data-testid="remote-connect" disabled={busy || !config.url.trim() || state.phase === 'connecting'}>
          {state.phase === 'connected' ? 'Reconnect' : 'Connect'}
        </button>
      </form>
      <div className="card" data-testid="remote-state" data-state={state.phase} data-code={state.phase === 'error' ? state.code : undefined}
        role={state.phase === 'error' ? 'alert' : 'status'}>
        {state.phase === 'idle' && <span className="muted">Not connected.</span>}
        {state.phase === 'connecting' && <span className="muted">Connecting…</span>}
        {state.phase === 'connected' && (
          <span>Connected to {state.baseUrl} · {state.models.length} model{state.models.length === 1 ? '' : 's'}</span>)}
        {state.phase === 'error' && (<>
          <strong className="error">{TITLES[state.code] ?? 'Could not connect'}</strong>
          <p className="small">{state.message}</p>
        </>)}
      </div>
      {state.phase === 'connected' && (
        <label className="field">
          <span>Model</span>
          <RemoteModelPicker remote={remote} disabled={busy} />
        </label>)}
      <p className="small muted">
        Works with llama.cpp&apos;s llama-server (alone or over its RPC workers), this app&apos;s <code>cli serve</code>,
        vLLM and Ollama (<code>http://host:11434/v1</code>). The server must allow this page&apos;s origin
        ({globalThis.location?.origin}) by CORS; llama-server does by default.
      </p>
    </div>
  );
}

/** The server's models, in the Engine panel and the top bar. */
export function RemoteModelPicker({ remote, disabled }: { remote: Remote; disabled: boolean }) {
  const { state, config } = remote;
  if (state.phase !== 'connected') return null;
  return (
    <select data-testid="remote-model-picker" aria-label="Remote model" value={config.model} disabled={disabled}
      onChange={(e) => remote.pick(e.target.value)}>
      {state.models.length === 0 && <option value="">The server lists no models</option>}
      {state.models.map((m) => <option key={m.id} value={m.id}>{m.name ?? m.id}</option>)}
    </select>
  );
}
