// WebLLM: its catalogue (f16 builds disabled with the reason when the adapter lacks shader-f16),
// custom entries (a self-hosted MLC model + its .wasm library), a load with progress, and the
// models WebLLM keeps in its own cache (the storage panel part), each deletable.
import { useState } from 'react';
import type { ChatEngine, EngineModel } from '../../worker/api.ts';
import type { WebLLMModel } from '../../worker/webllm-catalogue.ts';
import { useWebLLM, type WebLLMState } from '../hooks/use-webllm.ts';
import { formatBytes } from '../state/format.ts';

export interface WebLLMPanelProps {
  /**
   * The model that answers changed: `engine` (kind 'webllm', one per page, kept across remounts of
   * the panel) answers chats with `model`; null while none is loaded (unloaded, deleted, loading another).
   */
  onModel(engine: ChatEngine, model: EngineModel | null): void;
}

export function WebLLMPanel({ onModel }: WebLLMPanelProps) {
  const w = useWebLLM(onModel);
  if (w.openError) return <div className="error" role="alert">WebLLM could not start: {w.openError}</div>;
  if (!w.engine) return <p className="muted" data-testid="webllm-opening">Starting WebLLM…</p>;
  const s = w.engine.support;
  return (
    <div className="webllm-panel" data-testid="webllm-panel">
      <p className="small" data-testid="webllm-support">
        {s.webgpu ? <>GPU: {s.adapter} · shader-f16: {s.f16 ? 'yes' : 'no — f16 builds are not offered'}</>
          : <>WebLLM needs WebGPU, which is not available here ({s.reason}).</>}
      </p>
      <LoadState w={w} />
      <h3>Custom model</h3>
      <CustomForm w={w} />
      <h3>Stored by WebLLM</h3>
      <CachedList w={w} />
      <h3>Catalogue</h3>
      <Catalogue w={w} />
    </div>
  );
}

function LoadState({ w }: { w: WebLLMState }) {
  const p = w.loading?.progress;
  return (
    <>
      {w.loading && (
        <div className="notice" data-testid="webllm-loading">
          Loading {w.loading.id}… {p?.text}
          <progress max={p?.total ?? 1} value={p?.loaded ?? 0} />
          <div className="row-actions"><button type="button" onClick={w.cancelLoad}>Cancel</button></div>
        </div>
      )}
      {w.loaded && !w.loading && (
        <div className="notice" data-testid="webllm-loaded">Loaded: {w.loaded.name}
          <div className="row-actions"><button type="button" onClick={() => void w.unload()}>Unload</button></div>
        </div>
      )}
      {w.loadError && <div className="error" role="alert" data-testid="webllm-error" data-code={w.loadError.code}>{w.loadError.message}</div>}
    </>
  );
}

function CustomForm({ w }: { w: WebLLMState }) {
  const [id, setId] = useState('');
  const [modelUrl, setModelUrl] = useState('');
  const [modelLibUrl, setLibUrl] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form className="url-form" data-testid="webllm-custom-form" onSubmit={(e) => {
      e.preventDefault();
      const why = w.addCustom({ id, modelUrl, modelLibUrl });
      setError(why);
      if (!why) { setId(''); setModelUrl(''); setLibUrl(''); }
    }}>
      <label className="field">Id
        <input aria-label="WebLLM model id" value={id} onChange={(e) => setId(e.target.value)} placeholder="Qwen2.5-0.5B-Instruct-q4f32_1-MLC" />
      </label>
      <label className="field">Model URL (folder with mlc-chat-config.json)
        <input type="url" aria-label="WebLLM model URL" value={modelUrl} onChange={(e) => setModelUrl(e.target.value)}
          placeholder="https://models.lan/Qwen2.5-0.5B-Instruct-q4f32_1-MLC/resolve/main/" />
      </label>
      <label className="field">Model library URL (.wasm)
        <input type="url" aria-label="WebLLM model library URL" value={modelLibUrl} onChange={(e) => setLibUrl(e.target.value)}
          placeholder="https://models.lan/libs/Qwen2-0.5B-Instruct-q4f32_1_cs1k-webgpu.wasm" />
      </label>
      <p className="hint">WebLLM reads the files from &lt;model URL&gt;/resolve/main/ unless the URL has a /resolve/&lt;branch&gt;/ part.
        The server must send Access-Control-Allow-Origin. Builds named q4f16/q0f16 need shader-f16.</p>
      <button type="submit" disabled={!id.trim() || !modelUrl.trim() || !modelLibUrl.trim()}>Add</button>
      {error && <div className="error" role="alert" data-testid="webllm-custom-error">{error}</div>}
      {w.rejected.map((r) => (
        <div key={r.entry.id} className="error">Stored entry {r.entry.id} is not usable: {r.message}
          <button type="button" className="link" onClick={() => w.removeCustom(r.entry.id)}>Remove</button></div>
      ))}
    </form>
  );
}

function CachedList({ w }: { w: WebLLMState }) {
  if (w.cached.length === 0) return <p className="muted" data-testid="webllm-cache-empty">Nothing stored by WebLLM (its cache is separate from the models above).</p>;
  return (
    <ul className="stored">
      {w.cached.map((c) => (
        <li key={c.id ?? c.url} className="card" data-testid="webllm-cached">
          <div className="card-head">
            <strong>{c.id ?? c.url}</strong>
            <span className="muted">{formatBytes(c.bytes)} · {c.files} files{c.complete === false ? ' · incomplete' : ''}{c.id === null ? ' · no catalogue entry' : ''}</span>
          </div>
          <div className="row-actions">
            <button type="button" className="danger" onClick={() => {
              if (confirm(`Delete ${c.id ?? c.url} from WebLLM's cache?`)) void w.deleteCached(c);
            }}>Delete</button>
          </div>
        </li>
      ))}
    </ul>
  );
}

function Catalogue({ w }: { w: WebLLMState }) {
  const [filter, setFilter] = useState('');
  const [showUnavailable, setShowUnavailable] = useState(false);
  const f = filter.trim().toLowerCase();
  const rows = w.models.filter((m) => (!f || m.id.toLowerCase().includes(f)) && (showUnavailable || !m.unavailable || m.custom));
  const hidden = w.models.filter((m) => m.unavailable && !m.custom).length;
  return (
    <>
      <input aria-label="Filter WebLLM models" placeholder="Filter (e.g. Qwen, q4f32)" value={filter} onChange={(e) => setFilter(e.target.value)} />
      {hidden > 0 && (
        <label className="field row small">Show the {hidden} builds this device cannot run
          <input type="checkbox" checked={showUnavailable} onChange={(e) => setShowUnavailable(e.target.checked)} />
        </label>
      )}
      <ul className="catalogue" data-testid="webllm-catalogue">
        {rows.map((m) => <CatalogueRow key={m.id} m={m} w={w} />)}
      </ul>
    </>
  );
}

function CatalogueRow({ m, w }: { m: WebLLMModel; w: WebLLMState }) {
  const cached = w.cached.some((c) => c.id === m.id && c.complete);
  return (
    <li className="card" data-testid="webllm-model" data-unavailable={m.unavailable ? 'true' : undefined}>
      <div className="card-head">
        <strong>{m.name}</strong>
        <span className="muted">
          {m.vramMB !== undefined ? `needs ≈${formatBytes(m.vramMB * 1024 * 1024)} GPU memory` : 'size unknown'}
          {m.requiresF16 ? ' · f16' : ''}{m.lowResource ? ' · small devices' : ''}
        </span>
      </div>
      {m.unavailable && <p className="small muted" data-testid="webllm-unavailable">{m.unavailable}</p>}
      <div className="row-actions">
        <button type="button" disabled={!!m.unavailable || !!w.loading} title={m.unavailable}
          onClick={() => void w.load(m.id)}>{cached ? 'Load (stored)' : 'Download & load'}</button>
        {cached && <span className="badge">stored</span>}
        {m.custom && <button type="button" className="link" onClick={() => w.removeCustom(m.id)}>Remove entry</button>}
      </div>
    </li>
  );
}
