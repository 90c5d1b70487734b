// ByteSource over bytes already in memory (small files, tests).
import type { ByteSource } from './byte-source.ts';
import { checkRange } from './range.ts';

export function bytesSource(bytes: Uint8Array, name = 'memory.gguf'): ByteSource {
  return {
    size: bytes.length,
    name,
    async read(offset, length) {
      checkRange(name, bytes.length, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
}
