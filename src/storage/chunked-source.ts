// A ByteSource over one stored file: a read fetches only the chunks it overlaps.
import type { ByteSource } from '../formats/byte-source.ts';
import { checkRange } from '../formats/range.ts';
import { EngineError } from '../shared/errors.ts';
import type { ModelFileEntry } from './manifest.ts';

/** Small LRU of decoded chunks, shared by the files of one opened model. Holds promises so
 *  concurrent reads of the same chunk hit IndexedDB once. */
export class ChunkLru {
  private readonly map = new Map<string, Promise<Uint8Array>>();
  constructor(private readonly capacity: number) {}

  get(key: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let p = this.map.get(key);
    if (p) {
      this.map.delete(key); // re-insert: Map order is recency order
    } else {
      p = load();
      p.catch(() => this.map.delete(key));
    }
    this.map.set(key, p);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
    return p;
  }

  clear(): void {
    this.map.clear();
  }
}

export type ChunkLoader = (fileIndex: number, chunkIndex: number) => Promise<Uint8Array>;

export class ChunkedSource implements ByteSource {
  readonly size: number;
  readonly name: string;

  constructor(
    private readonly modelId: string,
    private readonly fileIndex: number,
    private readonly file: ModelFileEntry,
    private readonly lru: ChunkLru,
    private readonly load: ChunkLoader,
  ) {
    this.size = file.size;
    this.name = file.name;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, this.size, offset, length);
    const out = new Uint8Array(length);
    const cs = this.file.chunkSize;
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / cs);
      const chunk = await this.chunk(index);
      const from = pos - index * cs;
      const n = Math.min(length - done, chunk.length - from);
      out.set(chunk.subarray(from, from + n), done);
      done += n;
    }
    return out;
  }

  async close(): Promise<void> {
    this.lru.clear();
  }

  private chunk(index: number): Promise<Uint8Array> {
    return this.lru.get(`${this.fileIndex}/${index}`, async () => {
      const bytes = await this.load(this.fileIndex, index);
      const expected = Math.min(this.file.chunkSize, this.size - index * this.file.chunkSize);
      if (bytes.length !== expected) {
        throw new EngineError('IO',
          `Stored model "${this.modelId}" is damaged (${this.name}, chunk ${index}). Delete it and add it again.`);
      }
      return bytes;
    });
  }
}
