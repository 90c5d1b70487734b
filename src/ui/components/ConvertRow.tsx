// Progress of one folder import: the tensor being converted, or the MLC file being stored (i/n), MB read of the folder, speed, ETA, cancel.
import type { Models, Transfer } from '../hooks/use-models.ts';
import { formatBytes, formatEta } from '../state/format.ts';

export function ConvertRow({ t, models }: { t: Transfer; models: Models }) {
  const p = t.convert;
  const pct = p && p.totalBytes > 0 ? Math.min(100, (p.doneBytes / p.totalBytes) * 100) : 0;
  return (
    <li className={`transfer ${t.state}`} data-testid="convert">
      <div className="transfer-head">
        <strong>{t.name}</strong>
        <span className="muted">convert · {t.state}{p && p.workers > 1 ? ` · ${p.workers} workers` : ''}</span>
      </div>
      <progress max={100} value={pct} aria-label={`${t.name} progress`} />
      {p && t.state === 'running' && (
        <div className="transfer-numbers" data-testid="convert-progress">
          {p.unit} {p.index + 1}/{p.count} {p.tensor} · {formatBytes(p.doneBytes)} / {formatBytes(p.totalBytes)} ({pct.toFixed(0)}%)
          {' · '}{formatBytes(p.bytesPerSec)}/s · ETA {formatEta(p.etaSec)}
        </div>
      )}
      {t.state === 'running' && !p && <div className="transfer-numbers">Reading the folder…</div>}
      {t.error && <div className="error" role="alert" data-testid="transfer-error">{t.error}</div>}
      <div className="row-actions">
        {t.state === 'running' && <button type="button" data-testid="convert-cancel" onClick={() => models.cancelImport(t.id)}>Cancel</button>}
        {t.state !== 'running' && <button type="button" onClick={() => models.dismiss(t.id)}>Dismiss</button>}
      </div>
    </li>
  );
}
