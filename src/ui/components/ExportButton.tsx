// "Export .gguf": the stored file, as a Blob the worker builds from the cached chunks, saved
// through a download link (the browser streams the Blob to disk; no second copy in script memory).
import { useState } from 'react';
import type { Models } from '../hooks/use-models.ts';
import { errorMessage } from '../state/format.ts';

export function ExportButton({ id, models }: { id: string; models: Models }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const { name, blob } = await models.exportModel(id);
      const url = URL.createObjectURL(blob);
      const a = Object.assign(document.createElement('a'), { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000); // the download reads it after the click
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" data-testid="export-gguf" disabled={busy} onClick={() => void save()}>Export .gguf</button>
      {error && <span className="error" role="alert">{error}</span>}
    </>
  );
}
