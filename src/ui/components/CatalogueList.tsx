// Suggested models from public/models.json, with size, memory estimate and licence.
import type { Models } from '../hooks/use-models.ts';
import { bundledRef } from '../hooks/use-models.ts';
import { formatBytes } from '../state/format.ts';
import { FitBadge } from './FitBadge.tsx';

export function CatalogueList({ models }: { models: Models }) {
  const busy = new Set(models.transfers.filter((t) => t.state === 'running').map((t) => t.id));
  return (
    <ul className="catalogue">
      {models.catalogue.map((e) => {
        const stored = models.stored.find((m) => m.id === e.id);
        const ready = stored?.complete && stored.missingChunks === 0;
        return (
          <li key={e.id} className="card" data-testid="catalogue-entry">
            <div className="card-head">
              <strong>{e.name}</strong>
              <span className="muted">≈{formatBytes(e.size)} · needs ≈{formatBytes(e.memory)} RAM</span>
            </div>
            {e.description && <p className="muted small">{e.description}</p>}
            <div className="small">
              Licence: {e.licenseUrl ? <a href={e.licenseUrl} target="_blank" rel="noopener noreferrer">{e.license}</a> : e.license}
            </div>
            <div className="row-actions">
              {e.bundled && <button type="button" onClick={() => void models.load(bundledRef(e))}>Load (built in)</button>}
              <FitBadge source={e.bundled ? { kind: 'bundled', url: new URL(e.url, document.baseURI).href, name: e.name }
                : ready ? { kind: 'stored', id: e.id } : { kind: 'url', url: e.url }} auto={e.bundled || ready} />
              {!e.bundled && ready && <span className="badge">stored</span>}
              {!e.bundled && stored && stored.missingChunks > 0 && (
                <button type="button" disabled={busy.has(e.id)} onClick={() => void models.redownload(stored)}>Re-download</button>)}
              {!e.bundled && !stored?.complete && !stored?.missingChunks && (
                <button type="button" disabled={busy.has(e.id)}
                  onClick={() => void models.download({ id: e.id, url: e.url, name: e.name, sha256: e.sha256 })}>
                  {stored ? 'Resume download' : 'Download'}
                </button>)}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
