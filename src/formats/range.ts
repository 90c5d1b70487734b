import { GGUFError } from '../shared/errors.ts';

/** Every ByteSource rejects reads outside the file the same way: as a truncated file. */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new GGUFError('GGUF_CORRUPT', `${name}: invalid read of ${length} bytes at ${offset}.`);
  }
  if (offset + length > size) {
    throw new GGUFError('GGUF_TRUNCATED', `${name}: needs bytes ${offset}..${offset + length} but the file has only ${size} bytes; it is truncated.`);
  }
}
