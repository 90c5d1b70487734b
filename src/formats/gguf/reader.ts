// GGUF reader: header and tensor table from any ByteSource (File/Blob, URL ranges, Node file,
// IndexedDB shards), split files merged into one tensor list. Tensor data is read per tensor on demand.
import type { ByteSource } from '../byte-source.ts';
import { GGUFError } from '../../shared/errors.ts';
import { FORMAT_TRAITS, getTraits, NOT_IN_GGUF } from '../../quant/traits.ts';
import { ggmlTypeName } from '../../quant/types.ts';
import { DEFAULT_ALIGNMENT, MAX_HEADER_BYTES } from './constants.ts';
import { NeedMoreBytes, parseHeader, type GGUFValue, type GGUFValueTypeInfo, type ParsedHeader } from './header-parser.ts';

export type { GGUFValue, GGUFScalar, GGUFArray, GGUFValueTypeInfo } from './header-parser.ts';

export interface GGUFTensorInfo {
  readonly name: string;
  /** ggml type id (see GGMLType) */
  readonly type: number;
  /** ggml `ne` order: shape[0] is the row length */
  readonly shape: readonly number[];
  readonly nElements: number;
  /** absolute byte offset in its file */
  readonly offset: number;
  /** bytes of tensor data; NaN when the type is unknown to this engine */
  readonly byteSize: number;
  /** which split file holds it */
  readonly fileIndex: number;
}

export interface GGUFFile {
  readonly version: number;
  readonly metadata: Map<string, GGUFValue>;
  readonly metadataTypes: Map<string, GGUFValueTypeInfo>;
  readonly tensors: readonly GGUFTensorInfo[];
  readonly alignment: number;
  readonly sources: readonly ByteSource[];
  tensor(name: string): GGUFTensorInfo | undefined;
  /** Raw bytes of one tensor (throws UnsupportedError for types this engine cannot run). */
  readTensor(t: GGUFTensorInfo): Promise<Uint8Array>;
  /** Reads dst.length bytes of a tensor from byte `at` into dst; false when the source cannot (no readInto). */
  readTensorInto(t: GGUFTensorInfo, at: number, dst: Uint8Array): Promise<boolean>;
  close(): Promise<void>;
}

const FIRST_READ = 1 << 20;

/**
 * Reads the header of one file, growing the prefix read until the parser has what it needs; each
 * step fetches only the bytes it lacks (a 262k vocabulary is a 20 MB header).
 */
async function readHeader(src: ByteSource): Promise<ParsedHeader> {
  let len = Math.min(FIRST_READ, src.size);
  let buf = new Uint8Array(0);
  for (;;) {
    if (buf.length < len) {
      const more = await src.read(buf.length, len - buf.length);
      const next = new Uint8Array(len);
      next.set(buf);
      next.set(more, buf.length);
      buf = next;
    }
    try {
      return parseHeader(buf, src.size, src.name);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      if (e.needed > MAX_HEADER_BYTES) {
        throw new GGUFError('GGUF_LIMIT', `${src.name}: its header would need more than ${MAX_HEADER_BYTES >> 20} MiB of metadata; the file is corrupt or not a model.`);
      }
      len = Math.min(src.size, Math.max(e.needed, len * 2));
    }
  }
}

function metaNumber(meta: Map<string, GGUFValue>, key: string): number | undefined {
  const v = meta.get(key);
  return typeof v === 'number' ? v : undefined;
}

function layoutTensors(h: ParsedHeader, src: ByteSource, fileIndex: number, alignment: number): GGUFTensorInfo[] {
  const dataStart = Math.ceil(h.headerBytes / alignment) * alignment;
  const dataBytes = src.size - dataStart;
  const seen = new Set<string>();
  return h.tensors.map((t) => {
    if (seen.has(t.name)) throw new GGUFError('GGUF_CORRUPT', `${src.name}: tensor '${t.name}' appears twice; the file is corrupt.`);
    seen.add(t.name);
    if (t.relOffset % alignment !== 0) {
      throw new GGUFError('GGUF_CORRUPT',
        `${src.name}: tensor '${t.name}' starts at data offset ${t.relOffset}, which is not a multiple of the file's alignment ${alignment}; the file is corrupt.`);
    }
    const nElements = t.shape.reduce((a, b) => a * b, 1);
    if (NOT_IN_GGUF.has(t.type)) {
      // our in-memory MLC blocks (src/quant/mlc_q4.ts) share the id space but are never written to a file
      throw new GGUFError('GGUF_CORRUPT', `${src.name}: tensor '${t.name}' has type id ${t.type}, which is no ggml type; the file is corrupt.`);
    }
    const traits = FORMAT_TRAITS.get(t.type as never);
    let byteSize = NaN;
    if (traits) {
      if (t.shape[0] % traits.blockSize !== 0) {
        throw new GGUFError('GGUF_CORRUPT',
          `${src.name}: tensor '${t.name}' has rows of ${t.shape[0]} values, not a multiple of the ${ggmlTypeName(t.type)} block size ${traits.blockSize}.`);
      }
      byteSize = (nElements / traits.blockSize) * traits.typeSize;
      if (t.relOffset + byteSize > dataBytes) {
        throw new GGUFError('GGUF_TRUNCATED',
          `${src.name}: data of tensor '${t.name}' (${byteSize} bytes at ${dataStart + t.relOffset}) lies beyond the end of the ${src.size}-byte file. The download is probably incomplete.`);
      }
    }
    return { name: t.name, type: t.type, shape: t.shape, nElements, offset: dataStart + t.relOffset, byteSize, fileIndex };
  });
}

/** One file's header and tensor table, before it is joined to the other parts of a split set. */
export interface GGUFPart {
  readonly name: string;
  readonly size: number;
  readonly version: number;
  readonly metadata: Map<string, GGUFValue>;
  readonly metadataTypes: Map<string, GGUFValueTypeInfo>;
  readonly alignment: number;
  /** tensors laid out in this file, tagged with the `fileIndex` it was read as */
  readonly tensors: readonly GGUFTensorInfo[];
}

/** Reads only the header of one file (no tensor data): what import and download check before storing. */
export async function readGGUFPart(src: ByteSource, fileIndex = 0): Promise<GGUFPart> {
  const h = await readHeader(src);
  const alignment = metaNumber(h.metadata, 'general.alignment') ?? DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new GGUFError('GGUF_CORRUPT', `${src.name}: general.alignment = ${alignment} is not a positive multiple of 8.`);
  }
  return {
    name: src.name, size: src.size, version: h.version, metadata: h.metadata, metadataTypes: h.metadataTypes,
    alignment, tensors: layoutTensors(h, src, fileIndex, alignment),
  };
}

/**
 * Opens a GGUF model from one source or from all its split parts (`-00001-of-0000N.gguf`, in order).
 * Metadata comes from the first part; tensors from all parts.
 */
export async function openGGUF(sources: ByteSource | ByteSource[]): Promise<GGUFFile> {
  const srcs = Array.isArray(sources) ? sources : [sources];
  if (srcs.length === 0) throw new GGUFError('GGUF_CORRUPT', 'No GGUF file given.');
  const parts: GGUFPart[] = [];
  for (let i = 0; i < srcs.length; i++) parts.push(await readGGUFPart(srcs[i], i));
  const first = parts[0];
  checkSplits(parts);
  const tensors = parts.flatMap((p) => p.tensors);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  if (byName.size !== tensors.length) throw new GGUFError('GGUF_CORRUPT', `${srcs[0].name}: the same tensor name appears in two split parts.`);
  return {
    version: first.version,
    metadata: first.metadata,
    metadataTypes: first.metadataTypes,
    tensors,
    alignment: first.alignment,
    sources: srcs,
    ...tensorAccess(srcs, byName, (m) => new GGUFError('GGUF_CORRUPT', m)),
  };
}

/**
 * Tensor lookup and reads over a model's sources, for GGUF files and for formats presented as one
 * (Hugging Face folders): `pastEnd` makes the error for a read beyond a tensor's bytes.
 */
export function tensorAccess(srcs: readonly ByteSource[], byName: ReadonlyMap<string, GGUFTensorInfo>, pastEnd: (message: string) => Error):
  Pick<GGUFFile, 'tensor' | 'readTensor' | 'readTensorInto' | 'close'> {
  return {
    tensor: (name) => byName.get(name),
    async readTensor(t) {
      getTraits(t.type, t.name); // typed error for unsupported types
      return srcs[t.fileIndex].read(t.offset, t.byteSize);
    },
    async readTensorInto(t, at, dst) {
      getTraits(t.type, t.name);
      const src = srcs[t.fileIndex];
      if (!src.readInto) return false;
      if (at < 0 || at + dst.length > t.byteSize) throw pastEnd(`${src.name}: a read past the end of tensor '${t.name}'.`);
      await src.readInto(t.offset + at, dst);
      return true;
    },
    async close() {
      await Promise.all(srcs.map((s) => s.close?.()));
    },
  };
}

function checkSplits(parts: GGUFPart[]): void {
  const count = metaNumber(parts[0].metadata, 'split.count') ?? 1;
  if (count !== parts.length) {
    throw new GGUFError('GGUF_CORRUPT',
      count > parts.length
        ? `${parts[0].name} is part 1 of a model split into ${count} files; add all ${count} parts (got ${parts.length}).`
        : `${parts.length} files given, but ${parts[0].name} says the model has ${count} part(s).`);
  }
  parts.forEach((p, i) => {
    const no = metaNumber(p.metadata, 'split.no') ?? 0;
    if (no !== i) throw new GGUFError('GGUF_CORRUPT', `${p.name} is split part ${no + 1}, expected part ${i + 1}; give the parts in order.`);
  });
  const total = metaNumber(parts[0].metadata, 'split.tensors.count');
  const got = parts.reduce((a, p) => a + p.tensors.length, 0);
  if (total !== undefined && total !== got) {
    throw new GGUFError('GGUF_CORRUPT', `The split parts hold ${got} tensors, but the first part says ${total}; a part is missing or wrong.`);
  }
}

/** Orders split-part names (`name-00002-of-00003.gguf`) and returns them; a single file passes through. */
export function sortSplitNames(names: readonly string[]): string[] {
  const key = (n: string) => Number(/-(\d{5})-of-\d{5}\.gguf$/i.exec(n)?.[1] ?? 0);
  return [...names].sort((a, b) => key(a) - key(b));
}
