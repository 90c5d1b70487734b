// safetensors header: 8-byte little-endian length, then that many bytes of JSON naming each tensor's
// dtype, shape and [begin, end) byte range in the data that follows. Everything is checked against
// the file's size before anything big is read, so a corrupt file gives a typed error, not a huge
// allocation or a wrong answer.
import type { ByteSource } from '../byte-source.ts';
import { EngineError, UnsupportedError } from '../../shared/errors.ts';
import { GGMLType } from '../../quant/types.ts';

/** safetensors caps its header at 100 MB; a longer one is corrupt, not a model. */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** dtypes this engine runs, as ggml types and bytes per value */
const DTYPES: ReadonlyMap<string, { type: number; bytes: number }> = new Map([
  ['F32', { type: GGMLType.F32, bytes: 4 }],
  ['F16', { type: GGMLType.F16, bytes: 2 }],
  ['BF16', { type: GGMLType.BF16, bytes: 2 }],
]);

export interface SafeTensor {
  readonly name: string;
  readonly dtype: string;
  /** ggml type of the dtype */
  readonly type: number;
  /** as stored: row-major, outermost first (the reverse of ggml's `ne`) */
  readonly shape: readonly number[];
  /** absolute byte offset in the file */
  readonly offset: number;
  readonly byteSize: number;
}

export interface SafetensorsHeader {
  readonly name: string;
  readonly tensors: readonly SafeTensor[];
  /** `__metadata__` (string to string), empty when absent */
  readonly metadata: Readonly<Record<string, string>>;
}

const bad = (msg: string): never => { throw new EngineError('SAFETENSORS_CORRUPT', msg); };

/** Parses and checks the header of one .safetensors file; reads only the header's bytes. */
export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  if (src.size < 8) throw new EngineError('SAFETENSORS_TRUNCATED', `${src.name}: ${src.size} bytes is too short for a safetensors file (it is truncated).`);
  const lenBytes = await src.read(0, 8);
  const len = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (len > BigInt(src.size - 8)) {
    throw new EngineError('SAFETENSORS_TRUNCATED', `${src.name}: its header says ${len} bytes but the file has only ${src.size - 8} after the length; it is truncated or not a safetensors file.`);
  }
  if (len > BigInt(MAX_SAFETENSORS_HEADER)) bad(`${src.name}: a header of ${len} bytes is beyond safetensors' 100 MB limit; the file is corrupt.`);
  const headerLen = Number(len);
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let json: unknown;
  let raw: string;
  try {
    raw = text.decode(await src.read(8, headerLen));
    json = JSON.parse(raw);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError('SAFETENSORS_CORRUPT', `${src.name}: the header is not valid UTF-8 JSON (${(e as Error).message}); the file is corrupt or not a safetensors file.`, { cause: e });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) bad(`${src.name}: the header is not a JSON object.`);
  const dup = duplicateTopKey(raw);
  if (dup !== null) bad(`${src.name}: tensor '${dup}' appears twice in the header; the file is corrupt.`);
  const dataStart = 8 + headerLen;
  const dataBytes = src.size - dataStart;
  const tensors: SafeTensor[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v && typeof v === 'object' && !Array.isArray(v)) metadata = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
      continue;
    }
    tensors.push(readEntry(src.name, name, v, dataStart, dataBytes));
  }
  return { name: src.name, tensors, metadata };
}

function readEntry(file: string, name: string, v: unknown, dataStart: number, dataBytes: number): SafeTensor {
  const e = (v && typeof v === 'object' ? v : {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const where = `${file}: tensor '${name}'`;
  const { dtype, shape, data_offsets: offs } = e;
  if (typeof dtype !== 'string') return bad(`${where} has no dtype.`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return bad(`${where} has an invalid shape ${JSON.stringify(shape)}.`);
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
    return bad(`${where} has invalid data_offsets ${JSON.stringify(offs)}.`);
  }
  const [begin, end] = offs as number[];
  if (end > dataBytes) {
    throw new EngineError('SAFETENSORS_TRUNCATED', `${where}: its data (bytes ${begin}..${end} of the data) lies beyond the ${dataBytes} data bytes of the file; it is truncated.`);
  }
  const d = DTYPES.get(dtype);
  if (!d) {
    throw new UnsupportedError('UNSUPPORTED_TYPE', `${where} is ${dtype}, which this engine cannot run (supported: ${[...DTYPES.keys()].join(', ')}).`);
  }
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(n * d.bytes) || n * d.bytes !== end - begin) {
    bad(`${where}: shape [${shape}] of ${dtype} needs ${n * d.bytes} bytes but its data_offsets span ${end - begin}; the file is corrupt.`);
  }
  return { name, dtype, type: d.type, shape: shape as number[], offset: dataStart + begin, byteSize: end - begin };
}

/**
 * The first key that appears twice at the top level of a JSON object text, or null. JSON.parse keeps
 * the last silently, which would hide a corrupt header.
 */
function duplicateTopKey(s: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (s[k] === ' ' || s[k] === '\n' || s[k] === '\r' || s[k] === '\t') k++;
        if (s[k] === ':') {
          const key = JSON.parse(s.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    }
  }
  return null;
}
