// A copy of a GGUF with another tokenizer.chat_template: the header is re-encoded, the tensor data
// copied byte for byte (the layout is checked to come out identical).
import { readFileSync } from 'node:fs';
import { DEFAULT_ALIGNMENT, ValueType } from '../src/formats/gguf/constants.ts';
import { parseHeader } from '../src/formats/gguf/header-parser.ts';
import { encodeGGUFHeader, type WriterEntry } from '../src/formats/gguf/writer.ts';

const KEY = 'tokenizer.chat_template';

export function readChatTemplate(file: string): string {
  const buf = readFileSync(file);
  const t = parseHeader(buf, buf.length, file).metadata.get(KEY);
  if (typeof t !== 'string') throw new Error(`${file} has no chat template`);
  return t;
}

export function withChatTemplate(file: string, template: string): Uint8Array {
  const buf = new Uint8Array(readFileSync(file));
  const h = parseHeader(buf, buf.length, file);
  const align = Number(h.metadata.get('general.alignment') ?? DEFAULT_ALIGNMENT);
  const dataStart = Math.ceil(h.headerBytes / align) * align;
  const dataLen = buf.length - dataStart;
  const entries: WriterEntry[] = [...h.metadata].filter(([k]) => k !== KEY)
    .map(([key, value]) => ({ key, value, type: h.metadataTypes.get(key)! }));
  entries.push({ key: KEY, value: template, type: { type: ValueType.STRING } });
  const tensors = h.tensors.map((t, i) => ({
    name: t.name, type: t.type, shape: t.shape,
    byteSize: (i + 1 < h.tensors.length ? h.tensors[i + 1].relOffset : dataLen) - t.relOffset,
  }));
  const { header, relOffsets } = encodeGGUFHeader(entries, tensors, align);
  if (relOffsets.some((o, i) => o !== h.tensors[i].relOffset)) throw new Error(`${file}: tensor layout would move`);
  const out = new Uint8Array(header.length + dataLen);
  out.set(header);
  out.set(buf.subarray(dataStart), header.length);
  return out;
}
