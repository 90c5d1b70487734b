// Progress of one download or import: bar, bytes, speed, ETA, pause/resume.
import type { Models, Transfer } from '../hooks/use-models.ts';
import { formatBytes, formatEta } from '../state/format.ts';

export function TransferRow({ t, models }: { t: Transfer; models: Models }) {
  const p = t.progress;
  const pct = p && p.total > 0 ? Math.min(100, (p.loaded / p.total) * 100) : 0;
  // another tab is the writer: this one shows its progress and cannot pause it
  const elsewhere = t.state === 'running' && p?.otherTab === true;
  return (
    <li className={`transfer ${t.state}`} data-testid="transfer" data-other-tab={elsewhere || undefined}>
      <div className="transfer-head">
        <strong>{t.name}</strong>
        <span className="muted">{t.kind === 'download' ? 'download' : 'import'} · {t.state}{elsewhere && ' in another tab'}</span>
      </div>
      <progress max={100} value={pct} aria-label={`${t.name} progress`} />
      {p && p.phase === 'verify' && t.state === 'running' && (
        <div className="transfer-numbers" data-testid="transfer-verifying">
          verifying SHA-256… {pct.toFixed(0)} % ({formatBytes(p.loaded)} of {formatBytes(p.total)} checked)
        </div>
      )}
      {p && (p.phase !== 'verify' || t.state !== 'running') && (
        <div className="transfer-numbers">
          {formatBytes(p.loaded)} / {formatBytes(p.total)} ({pct.toFixed(0)}%)
          {t.state === 'running' && <> · {formatBytes(p.bytesPerSec)}/s · ETA {formatEta(p.etaSec)}</>}
        </div>
      )}
      {t.error && <div className="error" role="alert" data-testid="transfer-error">{t.error}</div>}
      <div className="row-actions">
        {t.kind === 'download' && t.state === 'running' && !elsewhere && <button type="button" onClick={() => models.pause(t.id)}>Pause</button>}
        {t.kind === 'download' && t.state !== 'running' && t.request && (
          <button type="button" onClick={() => void models.download(t.request!)}>Resume</button>)}
        {t.state !== 'running' && <button type="button" onClick={() => models.dismiss(t.id)}>Dismiss</button>}
      </div>
    </li>
  );
}
