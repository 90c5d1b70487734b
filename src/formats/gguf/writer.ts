// GGUF v3 writer: header bytes for given metadata and tensor table; callers stream tensor data
// after it at the returned offsets (the quantizer), or use toBytes() for small files (tests).
import { EngineError } from '../../shared/errors.ts';
import { DEFAULT_ALIGNMENT, SCALAR_SIZE, ValueType } from './constants.ts';
import type { GGUFValue, GGUFValueTypeInfo } from './header-parser.ts';

export interface WriterEntry { key: string; value: GGUFValue; type: GGUFValueTypeInfo }
export interface WriterTensor { name: string; type: number; shape: readonly number[]; byteSize: number }

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  len = 0;
  private readonly enc = new TextEncoder();

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void { this.grow(4); this.view.setUint32(this.len, v, true); this.len += 4; }
  u64(v: number | bigint): void { this.grow(8); this.view.setBigUint64(this.len, BigInt(v), true); this.len += 8; }
  bytes(b: Uint8Array): void { this.grow(b.length); this.buf.set(b, this.len); this.len += b.length; }
  string(s: string): void { const b = this.enc.encode(s); this.u64(b.length); this.bytes(b); }

  scalar(type: number, v: GGUFValue): void {
    if (type === ValueType.STRING) return this.string(String(v));
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw new EngineError('BAD_ARGUMENT', `GGUF writer: unknown value type ${type}.`);
    this.grow(size);
    const d = this.view, p = this.len;
    switch (type) {
      case ValueType.UINT8: d.setUint8(p, Number(v)); break;
      case ValueType.INT8: d.setInt8(p, Number(v)); break;
      case ValueType.UINT16: d.setUint16(p, Number(v), true); break;
      case ValueType.INT16: d.setInt16(p, Number(v), true); break;
      case ValueType.UINT32: d.setUint32(p, Number(v), true); break;
      case ValueType.INT32: d.setInt32(p, Number(v), true); break;
      case ValueType.FLOAT32: d.setFloat32(p, Number(v), true); break;
      case ValueType.BOOL: d.setUint8(p, v ? 1 : 0); break;
      case ValueType.UINT64: d.setBigUint64(p, BigInt(v as number), true); break;
      case ValueType.INT64: d.setBigInt64(p, BigInt(v as number), true); break;
      default: d.setFloat64(p, Number(v), true);
    }
    this.len += size;
  }

  value(t: GGUFValueTypeInfo, v: GGUFValue): void {
    if (t.type !== ValueType.ARRAY) return this.scalar(t.type, v);
    const arr = v as ArrayLike<GGUFValue>;
    const elem = t.elemType ?? ValueType.STRING;
    this.u32(elem);
    this.u64(arr.length);
    for (let i = 0; i < arr.length; i++) this.scalar(elem, arr[i]);
  }

  result(): Uint8Array { return this.buf.slice(0, this.len); }
}

/** Encodes header + tensor table + padding. Tensor i's data belongs at dataOffset + relOffsets[i]. */
export function encodeGGUFHeader(entries: readonly WriterEntry[], tensors: readonly WriterTensor[],
  alignment = DEFAULT_ALIGNMENT): { header: Uint8Array; relOffsets: number[]; dataOffset: number } {
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(entries.length);
  for (const e of entries) {
    w.string(e.key);
    w.u32(e.type.type);
    w.value(e.type, e.value);
  }
  const relOffsets: number[] = [];
  let off = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(d);
    w.u32(t.type);
    w.u64(off);
    relOffsets.push(off);
    off += Math.ceil(t.byteSize / alignment) * alignment;
  }
  const dataOffset = Math.ceil(w.len / alignment) * alignment;
  w.bytes(new Uint8Array(dataOffset - w.len));
  return { header: w.result(), relOffsets, dataOffset };
}

/** Whole small GGUF in memory (tests, tiny models). */
export function writeGGUF(entries: readonly WriterEntry[], tensors: readonly (WriterTensor & { data: Uint8Array })[],
  alignment = DEFAULT_ALIGNMENT): Uint8Array {
  const { header, relOffsets, dataOffset } = encodeGGUFHeader(entries, tensors, alignment);
  const last = tensors.length ? relOffsets[tensors.length - 1] + tensors[tensors.length - 1].byteSize : 0;
  const out = new Uint8Array(dataOffset + Math.ceil(last / alignment) * alignment);
  out.set(header);
  tensors.forEach((t, i) => out.set(t.data.subarray(0, t.byteSize), dataOffset + relOffsets[i]));
  return out;
}
