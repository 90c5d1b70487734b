// The memory pre-flight's answer for one model ("will it fit?"), asked of the worker from the
// header alone; `source` changes restart it. Shown in the catalogue, under a pasted URL, for an
// import and in the device panel.
import { useEffect, useState } from 'react';
import type { FitInfo, FitSource } from '../../worker/api.ts';
import { useEngine } from '../hooks/engine.ts';
import { errorMessage, formatBytes } from '../state/format.ts';

export function fitText(f: FitInfo): { short: string; long: string } {
  const on = `on ${f.backend === 'webgpu' ? 'WebGPU' : 'WASM'}`;
  switch (f.verdict) {
    case 'fits': return { short: 'fits', long: `fits ${on}: ${formatBytes(f.totalBytes)} of ${formatBytes(f.budgetBytes)} at a context of ${f.nCtx}` };
    case 'fits-with-ctx': return { short: `fits with context ≤ ${f.maxCtx}`, long: `${on}, ${f.message}` };
    case 'needs-streaming': return { short: 'only with layer streaming', long: `${on}, ${f.message}` };
    case 'does-not-fit': return { short: 'does not fit', long: `needs ${formatBytes(f.needsBytes)}, has ${formatBytes(f.hasBytes)} (${on})` };
  }
}

/** `auto`: ask when shown; otherwise a button asks (a URL's header can be megabytes). */
export function FitBadge({ source, auto = false }: { source: FitSource | null; auto?: boolean }) {
  const engine = useEngine();
  const [state, setState] = useState<{ fit?: FitInfo; error?: string; pending?: boolean } | null>(null);
  const key = source ? JSON.stringify(source.kind === 'file' ? source.files.map((f) => [f.name, f.size]) : source) : '';
  const ask = (): void => {
    if (!source) return;
    setState({ pending: true });
    engine.fitModel(source).then((fit) => setState({ fit }), (e: unknown) => setState({ error: errorMessage(e) }));
  };
  useEffect(() => { setState(null); if (auto) ask(); }, [key, auto]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!source) return null;
  if (!state) return <button type="button" className="link" onClick={ask}>Will it fit?</button>;
  if (state.pending) return <span className="muted small" data-testid="fit-verdict">checking memory…</span>;
  if (state.error) return <span className="error small" data-testid="fit-verdict">{state.error}</span>;
  const t = fitText(state.fit!);
  const room = state.fit!.storage;
  if (room && !room.fits) {
    t.short += ' · not enough storage';
    t.long += `; storing it needs ${formatBytes(room.neededBytes)}, ${formatBytes(room.availableBytes)} is free`;
  }
  return (
    <span className={`badge fit-${state.fit!.verdict}`} data-testid="fit-verdict" data-verdict={state.fit!.verdict} title={t.long}>
      {t.short}
    </span>
  );
}
