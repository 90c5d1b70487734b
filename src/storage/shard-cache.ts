// Model files in IndexedDB as bounded chunks, read back as ByteSources without ever
// holding a whole file in memory.
//
// Crash safety: every chunk is written in the same transaction that counts it in the
// manifest, so an interrupted write leaves a resumable partial whose manifest never
// claims a chunk that is absent. Deleting removes manifest and chunks in one transaction.
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { ByteSource } from '../formats/byte-source.ts';
import { check } from '../shared/assert.ts';
import { EngineError } from '../shared/errors.ts';
import { ChunkedSource, ChunkLru } from './chunked-source.ts';
import {
  checkModelId, chunkCount, chunkKey, manifestKey, MANIFEST_PREFIX, prefixRange, storedBytes,
  type ModelFileEntry, type ModelManifest,
} from './manifest.ts';
import { abortError, InterruptedError, isQuotaExceeded, MissingDataError, StorageQuotaError } from './storage-errors.ts';

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

export interface ShardCacheOptions {
  dbName?: string;
  storeName?: string;
  /** Chunk size for newly created models; existing models keep the size they were written with. */
  chunkSize?: number;
  /** Decoded chunks kept in memory per opened model. */
  lruChunks?: number;
}

export interface NewModel {
  id: string;
  name: string;
  files: { name: string; size: number; expectedSha256?: string }[];
  source: ModelManifest['source'];
  format?: ModelManifest['format'];
  quantization?: string;
}

export interface PutFileOptions {
  /** For streams: the file offset the stream starts at; it must equal the bytes already stored. */
  offset?: number;
  signal?: AbortSignal;
  /** Called with the file's byte count received so far (stored or buffered). */
  onBytes?: (fileBytes: number) => void;
  /** Validates the first chunk before anything of the file is stored (e.g. the GGUF magic). */
  checkHead?: (head: Uint8Array, fileName: string) => void;
}

type Mutation = (m: ModelManifest, store: IDBObjectStore) => void;

export class ShardCache {
  readonly chunkSize: number;
  private readonly store: UseStore;
  private readonly lruChunks: number;

  constructor(opts: ShardCacheOptions = {}) {
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    check(Number.isSafeInteger(this.chunkSize) && this.chunkSize >= 1024, 'BAD_ARGUMENT',
      `Chunk size must be an integer of at least 1024 bytes, got ${this.chunkSize}.`);
    this.lruChunks = Math.max(1, opts.lruChunks ?? 4);
    this.store = createStore(opts.dbName ?? 'edge-llm-models', opts.storeName ?? 'shards');
  }

  getManifest(id: string): Promise<ModelManifest | undefined> {
    return this.store('readonly', (s) => promisifyRequest<ModelManifest | undefined>(s.get(manifestKey(id))));
  }

  /** Every stored model, partial ones included (check `complete`), oldest first. */
  async listModels(): Promise<ModelManifest[]> {
    const all = await this.store('readonly', (s) => promisifyRequest<ModelManifest[]>(s.getAll(prefixRange(MANIFEST_PREFIX))));
    return all.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Writes the manifest of a new, empty model; fails if the id is taken. */
  async createModel(init: NewModel): Promise<ModelManifest> {
    checkModelId(init.id);
    check(init.files.length > 0, 'BAD_ARGUMENT', `Model "${init.id}" has no files.`);
    const m: ModelManifest = {
      id: init.id,
      name: init.name,
      files: init.files.map((f): ModelFileEntry => {
        check(Number.isSafeInteger(f.size) && f.size >= 0, 'BAD_ARGUMENT', `File ${f.name} has an invalid size ${f.size}.`);
        const expected = f.expectedSha256?.trim().toLowerCase();
        return { name: f.name, size: f.size, chunkSize: this.chunkSize, chunks: 0, ...(expected ? { expectedSha256: expected } : {}) };
      }),
      complete: false,
      createdAt: Date.now(),
      source: { ...init.source },
      ...(init.format ? { format: init.format } : {}),
      ...(init.quantization ? { quantization: init.quantization } : {}),
    };
    await this.store('readwrite', (s) => new Promise<void>((resolve, reject) => {
      const req = s.add(m, manifestKey(m.id));
      req.onerror = () => reject(req.error?.name === 'ConstraintError'
        ? new EngineError('BAD_ARGUMENT', `A model with id "${m.id}" is already stored.`)
        : req.error);
      s.transaction.oncomplete = () => resolve();
      s.transaction.onabort = () => reject(s.transaction.error ?? new EngineError('IO', `Saving model "${m.id}" failed.`));
    }));
    return m;
  }

  /**
   * Stores file `fileIndex` chunk by chunk, continuing after the chunks already stored.
   * A Blob is the whole file (sliced here); a stream must start at the first missing byte.
   * On failure the whole chunks written so far stay, so calling again resumes.
   */
  async putFile(id: string, fileIndex: number, data: Blob | ReadableStream<Uint8Array>,
    opts: PutFileOptions = {}): Promise<ModelManifest> {
    const m = await this.requireManifest(id);
    check(!m.complete, 'BAD_ARGUMENT', `Model "${id}" is complete; it cannot be modified.`);
    const file = m.files[fileIndex];
    check(file, 'BAD_ARGUMENT', `Model "${id}" has no file #${fileIndex}.`);
    try {
      if (data instanceof Blob) {
        check(data.size === file.size, 'BAD_ARGUMENT', `${file.name}: expected ${file.size} bytes, got ${data.size}.`);
        await this.writeBlob(id, fileIndex, file, data, opts);
      } else {
        check((opts.offset ?? 0) === storedBytes(file), 'BAD_ARGUMENT',
          `${file.name}: stream starts at byte ${opts.offset ?? 0} but ${storedBytes(file)} bytes are stored.`);
        await this.writeStream(id, fileIndex, file, data, opts);
      }
    } catch (e) {
      if (!(data instanceof Blob) && !data.locked) data.cancel().catch(() => {}); // rejected before reading
      if (isQuotaExceeded(e)) {
        const now = (await this.getManifest(id).catch(() => undefined))?.files[fileIndex] ?? file;
        throw new StorageQuotaError(file.name, file.size - storedBytes(now), undefined, { cause: e });
      }
      throw e;
    }
    return this.requireManifest(id);
  }

  /** Marks a model loadable once every chunk of every file is stored; records verified hashes. */
  async markComplete(id: string, sha256?: (string | undefined)[]): Promise<ModelManifest> {
    return this.mutate(id, (m) => {
      m.files.forEach((f, i) => {
        check(f.chunks === chunkCount(f), 'BAD_ARGUMENT',
          `Model "${id}" is not fully stored yet: ${f.name} has ${f.chunks} of ${chunkCount(f)} chunks.`);
        const h = sha256?.[i];
        if (h) f.sha256 = h.toLowerCase();
      });
      m.complete = true;
    });
  }

  /** Removes the manifest and every chunk of the model in one transaction. Missing ids are fine. */
  async deleteModel(id: string): Promise<void> {
    checkModelId(id);
    await this.store('readwrite', (s) => {
      s.delete(prefixRange(`${id}/`));
      s.delete(manifestKey(id));
      return promisifyRequest(s.transaction);
    });
  }

  /** One stored chunk as written (partial models included, for hashing). */
  async readChunk(id: string, fileIndex: number, chunkIndex: number): Promise<Uint8Array> {
    const v = await this.store('readonly', (s) => promisifyRequest<unknown>(s.get(chunkKey(id, fileIndex, chunkIndex))));
    if (!(v instanceof Uint8Array)) {
      throw new EngineError('IO',
        `Stored model "${id}" is missing chunk ${chunkIndex} of file #${fileIndex}. Delete it and add it again.`);
    }
    return v;
  }

  /**
   * Chunks the manifest counts as stored but IndexedDB no longer holds (evicted, or deleted by
   * hand). Reads only the keys, so it costs no model bytes.
   */
  async missingChunks(m: ModelManifest): Promise<number> {
    const keys = await this.store('readonly', (s) => promisifyRequest<IDBValidKey[]>(s.getAllKeys(prefixRange(`${m.id}/`))));
    return countMissing(m, new Set(keys as string[]));
  }

  /** One ByteSource per file of a complete model, in file order; refuses one with chunks gone. */
  async openModelSource(id: string): Promise<ByteSource[]> {
    const m = await this.requireManifest(id);
    check(m.complete, 'BAD_ARGUMENT', `Model "${m.name}" is only partly stored; finish or delete it first.`);
    const missing = await this.missingChunks(m);
    if (missing > 0) throw new MissingDataError(m.name, missing, m.files.reduce((n, f) => n + f.chunks, 0));
    const lru = new ChunkLru(this.lruChunks);
    const load = (f: number, c: number): Promise<Uint8Array> => this.readChunk(id, f, c);
    return m.files.map((f, i) => new ChunkedSource(id, i, f, lru, load));
  }

  /**
   * File `fileIndex` of a complete model as one Blob, built a chunk at a time: each step's Blob
   * refers to the previous one instead of copying it, so at most one chunk is in script memory.
   */
  async fileBlob(id: string, fileIndex = 0): Promise<Blob> {
    const m = await this.requireManifest(id);
    check(m.complete, 'BAD_ARGUMENT', `Model "${m.name}" is only partly stored; finish or delete it first.`);
    const file = m.files[fileIndex];
    check(file, 'BAD_ARGUMENT', `Model "${id}" has no file #${fileIndex}.`);
    let blob = new Blob([]);
    for (let c = 0; c < file.chunks; c++) blob = new Blob([blob, await this.readChunk(id, fileIndex, c) as Uint8Array<ArrayBuffer>]);
    check(blob.size === file.size, 'IO', `Stored model "${id}": ${file.name} reads back as ${blob.size} bytes, not ${file.size}. Delete it and add it again.`);
    return blob;
  }

  private async requireManifest(id: string): Promise<ModelManifest> {
    const m = await this.getManifest(id);
    if (!m) throw new EngineError('BAD_ARGUMENT', `No stored model with id "${id}".`);
    return m;
  }

  /** Read-modify-write of a manifest (plus any chunk ops) inside one transaction. */
  private mutate(id: string, fn: Mutation): Promise<ModelManifest> {
    return this.store('readwrite', (s) => new Promise<ModelManifest>((resolve, reject) => {
      const tx = s.transaction;
      let result: ModelManifest | undefined;
      const fail = (e: unknown): void => {
        reject(e);
        try { tx.abort(); } catch { /* already finished */ }
      };
      const req = s.get(manifestKey(id));
      req.onsuccess = () => {
        const m = req.result as ModelManifest | undefined;
        if (!m) return fail(new EngineError('BAD_ARGUMENT', `No stored model with id "${id}".`));
        try {
          fn(m, s);
          s.put(m, manifestKey(id));
          result = m;
        } catch (e) {
          fail(e);
        }
      };
      tx.oncomplete = () => (result ? resolve(result) : reject(new EngineError('IO', `Updating model "${id}" failed.`)));
      // Request errors abort the transaction; tx.error is only set by then.
      tx.onabort = () => reject(tx.error ?? new EngineError('IO', `Updating model "${id}" was aborted.`));
    }));
  }

  private async commitChunk(id: string, fileIndex: number, file: ModelFileEntry, chunk: number,
    bytes: Uint8Array, opts: PutFileOptions): Promise<void> {
    if (chunk === 0) opts.checkHead?.(bytes, file.name);
    // A view into a larger buffer would store the whole buffer: store exact-size copies only.
    const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    await this.mutate(id, (m, s) => {
      check(!m.complete && m.files[fileIndex].chunks === chunk, 'BAD_ARGUMENT',
        `${file.name}: chunk ${chunk} written out of order; is another download of "${id}" running?`);
      s.put(exact, chunkKey(id, fileIndex, chunk));
      m.files[fileIndex].chunks = chunk + 1;
    });
  }

  private async writeBlob(id: string, fileIndex: number, file: ModelFileEntry, blob: Blob,
    opts: PutFileOptions): Promise<void> {
    const count = chunkCount(file);
    for (let c = file.chunks; c < count; c++) {
      if (opts.signal?.aborted) throw abortError(`Storing ${file.name}`);
      const end = Math.min(file.size, (c + 1) * file.chunkSize);
      const bytes = new Uint8Array(await blob.slice(c * file.chunkSize, end).arrayBuffer());
      await this.commitChunk(id, fileIndex, file, c, bytes, opts);
      opts.onBytes?.(end);
    }
  }

  private async writeStream(id: string, fileIndex: number, file: ModelFileEntry,
    stream: ReadableStream<Uint8Array>, opts: PutFileOptions): Promise<void> {
    const count = chunkCount(file);
    const chunkLen = (c: number): number => Math.max(0, Math.min(file.chunkSize, file.size - c * file.chunkSize));
    let chunk = file.chunks;
    let pos = storedBytes(file);
    let buf = new Uint8Array(chunkLen(chunk));
    let fill = 0;
    const reader = stream.getReader();
    try {
      for (;;) {
        if (opts.signal?.aborted) throw abortError(`Storing ${file.name}`);
        const { done, value } = await readPiece(reader, file.name, pos, opts.signal);
        if (done) break;
        for (let v = value; v.length > 0;) {
          if (chunk >= count) throw new EngineError('IO', `${file.name}: received more than the expected ${file.size} bytes.`);
          const n = Math.min(v.length, buf.length - fill);
          buf.set(v.subarray(0, n), fill);
          fill += n;
          pos += n;
          v = v.subarray(n);
          if (fill === buf.length) {
            await this.commitChunk(id, fileIndex, file, chunk, buf, opts);
            chunk++;
            buf = new Uint8Array(chunkLen(chunk));
            fill = 0;
          }
        }
        opts.onBytes?.(pos);
      }
    } catch (e) {
      reader.cancel().catch(() => {});
      throw e;
    }
    if (chunk < count) throw new InterruptedError(`${file.name}: the data ended after ${pos} of ${file.size} bytes.`);
  }
}

/** Chunks 0..chunks-1 of each file whose key is not in `keys`. */
export function countMissing(m: ModelManifest, keys: ReadonlySet<string>): number {
  let missing = 0;
  m.files.forEach((f, i) => {
    for (let c = 0; c < f.chunks; c++) if (!keys.has(chunkKey(m.id, i, c))) missing++;
  });
  return missing;
}

async function readPiece(reader: ReadableStreamDefaultReader<Uint8Array>, name: string, pos: number,
  signal?: AbortSignal): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (e) {
    if (signal?.aborted) throw abortError(`Storing ${name}`);
    throw new InterruptedError(`${name}: the connection was lost after ${pos} bytes (${(e as Error).message}).`, { cause: e });
  }
}

let defaultCache: ShardCache | undefined;

/** The app-wide cache (created on first use so importing this module needs no IndexedDB). */
export function defaultShardCache(): ShardCache {
  defaultCache ??= new ShardCache();
  return defaultCache;
}
