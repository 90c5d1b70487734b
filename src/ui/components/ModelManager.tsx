// Add (file picker, drag-and-drop, a Hugging Face folder, URL), watch, load, export and delete models.
import { useState } from 'react';
import type { StoredModel } from '../../worker/api.ts';
import type { Models } from '../hooks/use-models.ts';
import { formatBytes } from '../state/format.ts';
import { CatalogueList } from './CatalogueList.tsx';
import { ConvertRow } from './ConvertRow.tsx';
import { ExportButton } from './ExportButton.tsx';
import { FolderImport } from './FolderImport.tsx';
import { FitBadge } from './FitBadge.tsx';
import { TransferRow } from './TransferRow.tsx';

/** A cache id from a URL's file name: letters, digits, . _ - only. */
function idFromUrl(url: string): string {
  const file = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || 'model';
  return file.replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 200) || 'model';
}

/** The URL as an http(s) link, or null. */
function httpUrl(s: string): string | null {
  try {
    const u = new URL(s.trim());
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

function UrlForm({ models }: { models: Models }) {
  const [url, setUrl] = useState('');
  const [error, setError] = useState<string | null>(null);
  // a pasted link is checked from its header before the download starts; a typed one on request
  const [probe, setProbe] = useState<string | null>(null);
  const typed = httpUrl(url);
  return (
    <form className="url-form" onSubmit={(e) => {
      e.preventDefault();
      try {
        const u = new URL(url.trim());
        if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('bad scheme');
        const id = idFromUrl(u.href);
        setError(null);
        setUrl('');
        setProbe(null);
        void models.download({ id, url: u.href, name: id });
      } catch {
        setError('Enter an http(s) link to a .gguf file, e.g. https://huggingface.co/…/resolve/main/model.gguf');
      }
    }}>
      <input type="url" aria-label="Model URL" data-testid="download-url" placeholder="https://huggingface.co/…/resolve/main/model.gguf"
        value={url} onChange={(e) => { setUrl(e.target.value); if (httpUrl(e.target.value) !== probe) setProbe(null); }}
        onPaste={(e) => setProbe(httpUrl(e.clipboardData.getData('text')))} />
      <button type="submit" data-testid="download-button" disabled={!url.trim()}>Download</button>
      {typed && <div className="small fit-line">Memory: <FitBadge source={{ kind: 'url', url: typed }} auto={typed === probe} /></div>}
      {error && <div className="error" role="alert">{error}</div>}
    </form>
  );
}

/** Loadable: every chunk stored and still there. */
function ready(m: StoredModel): boolean {
  return m.complete && m.missingChunks === 0;
}

export function ModelManager({ models }: { models: Models }) {
  const running = (id: string): boolean => models.transfers.some((t) => t.id === id && t.state === 'running');
  const [over, setOver] = useState(false);
  const [picked, setPicked] = useState<File[] | null>(null);
  const pick = (list: FileList | null): void => {
    if (!list || !list.length) return;
    setPicked([...list]);
    void models.importFiles([...list]);
  };
  return (
    <div className="model-manager">
      {models.loading && (
        <div className="notice">
          Loading {models.loading.name}…
          {models.loading.progress && models.loading.progress.total > 0 && (
            <progress max={models.loading.progress.total} value={models.loading.progress.loaded} />)}
        </div>
      )}
      {models.loadError && <div className="error" role="alert">{models.loadError}</div>}

      <h3>Add a model</h3>
      <label className={`drop-zone${over ? ' over' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); e.stopPropagation(); setOver(false); pick(e.dataTransfer.files); }}>
        <input type="file" accept=".gguf" multiple data-testid="import-input" onChange={(e) => { pick(e.target.files); e.target.value = ''; }} />
        <span>Drop GGUF files here or <u>choose files</u> (select all shards of a split model)</span>
      </label>
      {picked && <div className="small">Memory for {picked.map((f) => f.name).join(', ')}: <FitBadge source={{ kind: 'file', files: picked }} auto /></div>}
      <FolderImport models={models} />
      <UrlForm models={models} />

      {models.transfers.length > 0 && (
        <ul className="transfers">{models.transfers.map((t) => (t.kind === 'convert'
          ? <ConvertRow key={t.id} t={t} models={models} />
          : <TransferRow key={t.id} t={t} models={models} />))}</ul>
      )}

      <h3>On this device</h3>
      {models.stored.length === 0 && <p className="muted">No stored models yet.</p>}
      <ul className="stored">
        {models.stored.map((m) => (
          <li key={m.id} className="card" data-testid="stored-model">
            <div className="card-head">
              <strong>{m.name}</strong>
              <span className="muted">
                {m.complete ? formatBytes(m.size) : `partial: ${formatBytes(m.storedBytes)} of ${formatBytes(m.size)}`}
                {m.format === 'mlc' ? <span data-testid="model-format"> · MLC {m.quantization}</span> : m.files.length > 1 ? ` · ${m.files.length} shards` : ''}
              </span>
            </div>
            {m.missingChunks > 0 && (
              <div className="error" data-testid="missing-data">
                Missing data: {m.missingChunks} stored part{m.missingChunks === 1 ? ' is' : 's are'} gone (the browser may have
                evicted {m.missingChunks === 1 ? 'it' : 'them'} to free space), so this model cannot be loaded.
                {m.source.url ? ' Download it again.' : ' Delete it and import the file again.'}
              </div>
            )}
            <div className="row-actions">
              {ready(m) && <button type="button" onClick={() => void models.load({ kind: 'stored', id: m.id })}>Load</button>}
              {ready(m) && <FitBadge source={{ kind: 'stored', id: m.id }} />}
              {ready(m) && m.format === 'mlc' && <button type="button" data-testid="export-gguf" disabled
                title="MLC weights are stored as their own files; there is no .gguf to export.">Export .gguf</button>}
              {ready(m) && m.format === 'mlc' && <span className="small muted" data-testid="export-reason">MLC weights: no .gguf export</span>}
              {ready(m) && m.format !== 'mlc' && m.files.length === 1 && <ExportButton id={m.id} models={models} />}
              {m.missingChunks > 0 && m.source.url && !running(m.id) && (
                <button type="button" onClick={() => void models.redownload(m)}>Re-download</button>)}
              {!m.complete && m.missingChunks === 0 && m.source.url && !running(m.id) && (
                // the hash the download started with is kept in the partial's manifest
                <button type="button" onClick={() => void models.download({ id: m.id, url: m.source.url!, name: m.name })}>Resume</button>)}
              <button type="button" className="danger" onClick={() => { if (confirm(`Delete ${m.name} from this device?`)) void models.remove(m.id); }}>
                Delete
              </button>
            </div>
          </li>
        ))}
      </ul>

      <h3>Catalogue</h3>
      <CatalogueList models={models} />
    </div>
  );
}
