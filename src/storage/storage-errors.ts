// Typed storage failures that carry the numbers a UI needs to explain them.
import { EngineError } from '../shared/errors.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A stored model's manifest counts chunks that IndexedDB no longer holds (evicted or deleted). */
export class MissingDataError extends EngineError {
  readonly missing: number;
  readonly total: number;
  constructor(name: string, missing: number, total: number) {
    super('MISSING_DATA', `${name} is missing ${missing} of its ${total} stored parts (the browser may have evicted them ` +
      'to free space). Download it again, or delete it.');
    this.name = 'MissingDataError';
    this.missing = missing;
    this.total = total;
  }
}

/** Browser storage cannot hold the model. `available` is undefined when the browser gives no estimate. */
export class StorageQuotaError extends EngineError {
  readonly what: string;
  readonly needed: number;
  readonly available: number | undefined;
  /** bytes of a download already stored and kept for Resume */
  readonly kept: number;
  constructor(what: string, needed: number, available: number | undefined, options?: { cause?: unknown; kept?: number }) {
    const kept = options?.kept ?? 0;
    super('QUOTA', (available === undefined
      ? `Browser storage is full: saving ${what} needs ${formatBytes(needed)} more. Free space by deleting models`
      : `Not enough browser storage for ${what}: needs ${formatBytes(needed)} (${needed} bytes), ` +
        `only ${formatBytes(available)} (${available} bytes) available. Free space by deleting models`) +
      (kept > 0 ? `, then press Resume: the ${formatBytes(kept)} already downloaded are kept.` : '.'),
      options);
    this.name = 'StorageQuotaError';
    this.what = what;
    this.needed = needed;
    this.available = available;
    this.kept = kept;
  }
}

/** The server answered with an HTTP error status. */
export class HttpError extends EngineError {
  readonly status: number;
  readonly url: string;
  constructor(url: string, status: number, statusText: string) {
    super('IO', `Download failed: ${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}.`);
    this.name = 'HttpError';
    this.status = status;
    this.url = url;
  }
}

/** Stored bytes do not hash to the expected SHA-256. */
export class IntegrityError extends EngineError {
  readonly expected: string;
  readonly actual: string;
  /** `bundled`: the app's own copy of its demo model (nothing is stored; a reload fetches it again) */
  constructor(what: string, expected: string, actual: string, kind: 'download' | 'bundled' = 'download') {
    super('IO', `${what} failed its integrity check: the bytes received do not match the published SHA-256 ` +
      `(expected ${expected}, got ${actual}), so the file is damaged or not the one published. ` +
      (kind === 'bundled' ? 'Reload the page to fetch it again.' : 'It was not kept; download it again.'));
    this.name = 'IntegrityError';
    this.expected = expected;
    this.actual = actual;
  }
}

export function isQuotaExceeded(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
}

export function abortError(what: string): EngineError {
  return new EngineError('ABORTED', `${what} was stopped; it can be resumed.`);
}

/** Reading the incoming data failed or it ended early; what was stored so far can be resumed. */
export class InterruptedError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IO', message, options);
    this.name = 'InterruptedError';
  }
}

/**
 * Another tab of the app holds the model: writing it (its write lock), or, for a delete, running it
 * (its in-use lock; layer streaming reads the stored weights while it answers). storage/model-lock.ts
 */
export class ModelBusyError extends EngineError {
  constructor(what: string, why: 'writing' | 'in-use' = 'writing') {
    super('MODEL_BUSY', why === 'writing'
      ? `${what} is being downloaded or imported in another tab of this app. Wait until it finishes there (or pause it there), then try again.`
      : `${what} is loaded in another tab of this app. Unload it there (or close that tab), then delete it.`);
    this.name = 'ModelBusyError';
  }
}
