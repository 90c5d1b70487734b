// Storage quota (navigator.storage.estimate), plus the progress meter shared by downloads and
// imports. Persistence is asked for by the page (ui/hooks/use-models.ts): persist() is Window-only.
import { StorageQuotaError } from './storage-errors.ts';

/** Throws StorageQuotaError when the browser's estimate says `needed` bytes will not fit. */
export async function ensureQuota(what: string, needed: number): Promise<void> {
  const estimate = globalThis.navigator?.storage?.estimate;
  if (!estimate || needed <= 0) return;
  let quota: number | undefined;
  let usage: number | undefined;
  try {
    ({ quota, usage } = await estimate.call(globalThis.navigator.storage));
  } catch {
    return; // no estimate: let the writes find out
  }
  if (quota === undefined) return;
  const available = Math.max(0, quota - (usage ?? 0));
  if (needed > available) throw new StorageQuotaError(what, needed, available);
}

export interface TransferProgress {
  /** 'verify': the stored bytes are being hashed against the expected SHA-256 (loaded of total) */
  phase?: 'download' | 'verify';
  loaded: number;
  total: number;
  bytesPerSec: number;
  /** Seconds left at the current speed; Infinity while the speed is unknown. */
  etaSec: number;
}

/** Speed over a sliding window, reported at most every `intervalMs` (and always when done). */
export class ProgressMeter {
  private readonly samples: { t: number; bytes: number }[] = [];
  private lastEmit = -Infinity;

  constructor(
    private readonly total: number,
    private readonly emit?: (p: TransferProgress) => void,
    private readonly windowMs = 3000,
    private readonly intervalMs = 100,
  ) {}

  update(loaded: number, now = Date.now()): void {
    this.samples.push({ t: now, bytes: loaded });
    while (this.samples.length > 2 && now - this.samples[1].t > this.windowMs) this.samples.shift();
    if (!this.emit || (now - this.lastEmit < this.intervalMs && loaded < this.total)) return;
    this.lastEmit = now;
    const first = this.samples[0];
    const dt = (now - first.t) / 1000;
    const bytesPerSec = dt > 0 ? (loaded - first.bytes) / dt : 0;
    const etaSec = loaded >= this.total ? 0 : bytesPerSec > 0 ? (this.total - loaded) / bytesPerSec : Infinity;
    this.emit({ loaded, total: this.total, bytesPerSec, etaSec });
  }
}
