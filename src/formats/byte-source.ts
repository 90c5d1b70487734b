// Random access to model bytes without ever loading a whole file into one buffer.
// Implementations: Node file handle, browser Blob/File, HTTP range requests, IndexedDB shards.

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Human-readable name for error messages (file name or URL). */
  readonly name: string;
  /** Reads exactly `length` bytes at `offset`; throws GGUF_TRUNCATED/IO errors if it cannot. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Optional: reads dst.length bytes at `offset` into dst, with no buffer of its own (layer streaming). */
  readInto?(offset: number, dst: Uint8Array): Promise<void>;
  close?(): Promise<void>;
}
