// What IndexedDB holds for one model: a manifest plus fixed-size chunks of each file.
import { EngineError, GGUFError } from '../shared/errors.ts';

export interface ModelFileEntry {
  name: string;
  size: number;
  /** Lower-case hex, set once the stored bytes were verified against it. */
  sha256?: string;
  /** Lower-case hex the file must hash to once complete: kept in a partial so a Resume (even after
   *  a reload) still checks what the first request was asked to check. */
  expectedSha256?: string;
  /** Every chunk but the last holds exactly this many bytes. */
  chunkSize: number;
  /** Chunks 0..chunks-1 are stored; a chunk is counted only in the transaction that writes it. */
  chunks: number;
}

export interface ModelManifest {
  id: string;
  name: string;
  files: ModelFileEntry[];
  /** Only complete models can be opened; partial ones can be resumed or deleted. */
  complete: boolean;
  createdAt: number;
  source: { kind: 'file' | 'url'; url?: string };
  /** How the files are read: absent or 'gguf' — GGUF file(s); 'mlc' — an MLC-LLM folder stored as it was
   *  (file names are paths inside it, opened by formats/mlc/folder.ts). */
  format?: ModelFormat;
  /** the MLC folder's quantization (q4f16_1, …), shown on the card */
  quantization?: string;
}

export type ModelFormat = 'gguf' | 'mlc';

// Ids never contain '/' or ':' so the chunk prefix `${id}/` and the manifest prefix
// `manifest:` can never overlap between two models.
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function checkModelId(id: string): void {
  if (!ID_RE.test(id)) {
    throw new EngineError('BAD_ARGUMENT',
      `Invalid model id "${id}": use letters, digits, '.', '_' or '-' (at most 200 characters).`);
  }
}

/** Turns a file name or repository path into a valid model id. */
export function modelIdFrom(text: string): string {
  const id = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 200);
  return id || 'model';
}

export const MANIFEST_PREFIX = 'manifest:';
export const manifestKey = (id: string): string => `${MANIFEST_PREFIX}${id}`;
export const chunkKey = (id: string, file: number, chunk: number): string => `${id}/${file}/${chunk}`;

/** Key range covering every string key that starts with `prefix`. */
export function prefixRange(prefix: string): IDBKeyRange {
  return IDBKeyRange.bound(prefix, `${prefix}\uffff`);
}

export function chunkCount(file: Pick<ModelFileEntry, 'size' | 'chunkSize'>): number {
  return Math.ceil(file.size / file.chunkSize);
}

/** Bytes of `file` already stored (only whole chunks count). */
export function storedBytes(file: ModelFileEntry): number {
  return Math.min(file.size, file.chunks * file.chunkSize);
}

export function modelStoredBytes(m: ModelManifest): number {
  return m.files.reduce((n, f) => n + storedBytes(f), 0);
}

export function modelSize(m: ModelManifest): number {
  return m.files.reduce((n, f) => n + f.size, 0);
}

/** Rejects a file whose first bytes are not the GGUF magic, before any of it is stored. */
export function checkGGUFHead(head: Uint8Array, fileName: string): void {
  const magic = String.fromCharCode(...head.subarray(0, 4));
  if (magic !== 'GGUF') {
    const shown = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new GGUFError('GGUF_BAD_MAGIC',
      `${fileName} is not a GGUF model file (it starts with bytes ${shown || '(none)'}, not "GGUF").`);
  }
}
