// ByteSource over a browser File/Blob: Blob.slice reads only the requested range.
import type { ByteSource } from './byte-source.ts';
import { checkRange } from './range.ts';

export function blobSource(blob: Blob, name = (blob as File).name ?? 'model.gguf'): ByteSource {
  return {
    size: blob.size,
    name,
    async read(offset, length) {
      checkRange(name, blob.size, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}
