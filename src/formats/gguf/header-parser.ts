// Synchronous parse of a GGUF header (metadata + tensor table) from a prefix of the file.
// When the prefix is too short the parser throws NeedMoreBytes and the caller retries with a
// longer prefix, so the async reader never awaits per value and never loads tensor data.
import { GGUFError } from '../../shared/errors.ts';
import {
  GGUF_MAGIC, MAX_DIMS, MAX_KV, MAX_TENSORS, SCALAR_SIZE, ValueType,
} from './constants.ts';

export type GGUFScalar = number | bigint | boolean | string;
export type GGUFArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array
  | string[] | boolean[] | GGUFValue[];
export type GGUFValue = GGUFScalar | GGUFArray;

export interface RawTensorInfo {
  name: string;
  shape: number[];
  type: number;
  /** offset relative to the start of the data section */
  relOffset: number;
}

/** GGUF value type of a metadata entry (and of its elements for arrays), kept so files can be rewritten faithfully. */
export interface GGUFValueTypeInfo { type: number; elemType?: number }

export interface ParsedHeader {
  version: number;
  metadata: Map<string, GGUFValue>;
  metadataTypes: Map<string, GGUFValueTypeInfo>;
  tensors: RawTensorInfo[];
  /** byte length of the header (magic through tensor table), before alignment padding */
  headerBytes: number;
}

export class NeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`need ${needed} bytes`);
  }
}

const TYPED_ARRAY: Readonly<Record<number, { new(b: ArrayBuffer): GGUFArray }>> = {
  0: Uint8Array, 1: Int8Array, 2: Uint16Array, 3: Int16Array, 4: Uint32Array, 5: Int32Array,
  6: Float32Array, 10: BigUint64Array, 11: BigInt64Array, 12: Float64Array,
};

class Cursor {
  pos = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private readonly units: number[] = [];

  constructor(private readonly buf: Uint8Array, private readonly fileSize: number, private readonly file: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Ensures n more bytes exist: in the prefix (else NeedMoreBytes) and in the file (else truncated). */
  need(n: number, what: string): void {
    const end = this.pos + n;
    if (end > this.fileSize) {
      throw new GGUFError('GGUF_TRUNCATED',
        `${this.file}: the file ends inside its header (reading ${what} at byte ${this.pos} needs ${n} bytes, ` +
        `but the file has only ${this.fileSize}). The download or copy is probably incomplete.`);
    }
    if (end > this.buf.length) throw new NeedMoreBytes(end);
  }

  peekU32(): number { this.need(4, 'array type'); return this.view.getUint32(this.pos, true); }

  u32(what: string): number { this.need(4, what); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }

  /**
   * u64 that must be a sane count or size: returned as number, absurd values rejected. Read as two
   * u32 halves (no BigInt per call: a 262k-token vocabulary reads a million of these).
   */
  count(what: string, limit: number, unit = ''): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true), hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    const v = hi * 2 ** 32 + lo;
    if (hi >= 2 ** 21 || v > limit) {
      const big = (BigInt(hi) << 32n) | BigInt(lo);
      throw new GGUFError('GGUF_LIMIT', `${this.file}: header claims ${big} ${unit}${what}, more than the ${limit} possible here; the file is corrupt.`);
    }
    return v;
  }

  string(what: string): string {
    const len = this.count(what, Number.MAX_SAFE_INTEGER, 'bytes in ');
    if (this.pos + len > this.fileSize) {
      throw new GGUFError('GGUF_CORRUPT',
        `${this.file}: ${what} at byte ${this.pos - 8} claims ${len} bytes, past the end of the ${this.fileSize}-byte file; the file is corrupt or truncated.`);
    }
    this.need(len, what);
    const s = (len <= 64 ? this.shortUtf8(this.pos, len) : null) ?? this.decoder.decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  /**
   * Decodes a short, well-formed UTF-8 string in JS: a TextDecoder call costs more than the decoding
   * (in Chromium ~780k calls for a 262k-token vocabulary took seconds). Null for anything
   * ill-formed, which the TextDecoder then handles (U+FFFD replacement).
   */
  private shortUtf8(pos: number, len: number): string | null {
    const b = this.buf, u = this.units;
    u.length = 0;
    for (let i = pos, end = pos + len; i < end;) {
      const c = b[i];
      if (c < 0x80) { u.push(c); i++; continue; }
      const n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
      if (c < 0xc2 || c > 0xf4 || i + n >= end) return null; // not a lead byte, or the sequence is cut off
      const c1 = b[i + 1];
      // the second byte's range rules out overlongs, surrogates and code points past U+10FFFF
      const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80, hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
      if (c1 < lo || c1 > hi) return null;
      let cp = n === 1 ? c & 0x1f : n === 2 ? c & 0x0f : c & 0x07;
      cp = (cp << 6) | (c1 & 0x3f);
      for (let k = 2; k <= n; k++) {
        const ck = b[i + k];
        if ((ck & 0xc0) !== 0x80) return null;
        cp = (cp << 6) | (ck & 0x3f);
      }
      if (cp >= 0x10000) u.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
      else u.push(cp);
      i += n + 1;
    }
    return String.fromCharCode.apply(null, u);
  }

  scalar(type: number, what: string): GGUFScalar {
    const size = SCALAR_SIZE[type];
    if (type === ValueType.STRING) return this.string(what);
    if (size === undefined) throw new GGUFError('GGUF_CORRUPT', `${this.file}: ${what} has unknown value type ${type}.`);
    this.need(size, what);
    const v = this.view, p = this.pos;
    this.pos += size;
    switch (type) {
      case ValueType.UINT8: return v.getUint8(p);
      case ValueType.INT8: return v.getInt8(p);
      case ValueType.UINT16: return v.getUint16(p, true);
      case ValueType.INT16: return v.getInt16(p, true);
      case ValueType.UINT32: return v.getUint32(p, true);
      case ValueType.INT32: return v.getInt32(p, true);
      case ValueType.FLOAT32: return v.getFloat32(p, true);
      case ValueType.BOOL: return v.getUint8(p) !== 0;
      case ValueType.UINT64: return safeNumber(v.getBigUint64(p, true));
      case ValueType.INT64: return safeNumber(v.getBigInt64(p, true));
      default: return v.getFloat64(p, true);
    }
  }

  array(what: string, depth: number): GGUFArray {
    const type = this.u32(what);
    const n = this.count(what, Number.MAX_SAFE_INTEGER, 'elements in ');
    const size = SCALAR_SIZE[type];
    const minBytes = n * (type === ValueType.STRING ? 8 : type === ValueType.ARRAY ? 12 : size ?? 1);
    if (this.pos + minBytes > this.fileSize) {
      throw new GGUFError('GGUF_CORRUPT',
        `${this.file}: ${what} claims ${n} elements, which cannot fit in the rest of the file; the file is corrupt or truncated.`);
    }
    const ctor = TYPED_ARRAY[type];
    if (ctor && size !== undefined) {
      this.need(n * size, what);
      const copy = this.buf.slice(this.pos, this.pos + n * size); // aligned copy for the typed view
      this.pos += n * size;
      return new ctor(copy.buffer);
    }
    if (type === ValueType.BOOL) {
      this.need(n, what);
      const out = Array.from(this.buf.subarray(this.pos, this.pos + n), (b) => b !== 0);
      this.pos += n;
      return out;
    }
    if (type === ValueType.STRING) {
      const out = new Array<string>(n);
      const start = this.pos;
      let i = 0;
      try {
        for (; i < n; i++) out[i] = this.string(what);
      } catch (e) {
        // Out of bytes inside a long list (a vocabulary): ask for its estimated end, so the reader's
        // next, larger prefix is not parsed just to run out again.
        if (!(e instanceof NeedMoreBytes) || i === 0) throw e;
        throw new NeedMoreBytes(Math.max(e.needed, Math.ceil(start + ((this.pos - start) / i) * n * 1.1)));
      }
      return out;
    }
    if (type === ValueType.ARRAY) {
      if (depth > 8) throw new GGUFError('GGUF_CORRUPT', `${this.file}: ${what} nests arrays too deeply.`);
      const out = new Array<GGUFValue>(n);
      for (let i = 0; i < n; i++) out[i] = this.array(what, depth + 1);
      return out;
    }
    throw new GGUFError('GGUF_CORRUPT', `${this.file}: ${what} has unknown element type ${type}.`);
  }
}

function safeNumber(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

export function parseHeader(buf: Uint8Array, fileSize: number, file: string): ParsedHeader {
  const c = new Cursor(buf, fileSize, file);
  const magic = c.u32('magic');
  if (magic !== GGUF_MAGIC) {
    const text = new TextDecoder().decode(buf.subarray(0, 4)).replace(/[^\x20-\x7e]/g, '?');
    throw new GGUFError('GGUF_BAD_MAGIC',
      `${file} is not a GGUF model file (it starts with "${text}", not "GGUF"). ` +
      `Convert it with llama.cpp's convert_hf_to_gguf.py, or pick a .gguf file.`);
  }
  const version = c.u32('version');
  if (version !== 2 && version !== 3) {
    const hint = version === 1 ? 'GGUF v1 is obsolete; re-convert the model with a current llama.cpp.'
      : version > 0xffff ? 'It looks like a big-endian GGUF, which is not supported.' : 'This reader knows versions 2 and 3.';
    throw new GGUFError('GGUF_BAD_VERSION', `${file}: unsupported GGUF version ${version}. ${hint}`);
  }
  const nTensors = c.count('tensors', MAX_TENSORS);
  const nKV = c.count('metadata entries', MAX_KV);
  // Each tensor info takes at least 8+1+4+8+4+8 bytes and each kv at least 8+1+4+1.
  c.need(nTensors * 33 + nKV * 14, `${nTensors} tensor infos and ${nKV} metadata entries`);
  const metadata = new Map<string, GGUFValue>();
  const metadataTypes = new Map<string, GGUFValueTypeInfo>();
  for (let i = 0; i < nKV; i++) {
    const key = c.string(`metadata key #${i}`);
    const type = c.u32(`type of '${key}'`);
    if (type === ValueType.ARRAY) {
      metadataTypes.set(key, { type, elemType: c.peekU32() });
      metadata.set(key, c.array(`'${key}'`, 0));
    } else {
      metadataTypes.set(key, { type });
      metadata.set(key, c.scalar(type, `'${key}'`));
    }
  }
  const tensors: RawTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) tensors.push(readTensorInfo(c, i, file));
  return { version, metadata, metadataTypes, tensors, headerBytes: c.pos };
}

function readTensorInfo(c: Cursor, i: number, file: string): RawTensorInfo {
  const name = c.string(`name of tensor #${i}`);
  const nDims = c.u32(`dimensions of '${name}'`);
  if (nDims < 1 || nDims > MAX_DIMS) {
    throw new GGUFError('GGUF_CORRUPT', `${file}: tensor '${name}' has ${nDims} dimensions (1..${MAX_DIMS} allowed); the file is corrupt.`);
  }
  const shape: number[] = [];
  let n = 1;
  for (let d = 0; d < nDims; d++) {
    const dim = c.count(`elements in dimension ${d} of '${name}'`, 2 ** 40);
    n *= dim;
    if (dim === 0 || n > 2 ** 45) {
      throw new GGUFError('GGUF_CORRUPT', `${file}: tensor '${name}' has an impossible shape; the file is corrupt.`);
    }
    shape.push(dim);
  }
  const type = c.u32(`type of '${name}'`);
  const relOffset = c.count(`offset of '${name}'`, Number.MAX_SAFE_INTEGER);
  return { name, shape, type, relOffset };
}
