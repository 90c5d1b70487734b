// The check import and download run before a byte of a model is stored: each file's GGUF header
// (never its tensor data) is read, the files are ordered into one split set, and the engine's
// support check decides. A model that cannot run is refused here, not after a multi-GB copy.
import type { ByteSource } from '../formats/byte-source.ts';
import { readGGUFPart, type GGUFPart } from '../formats/gguf/reader.ts';
import { orderSplitSet } from '../formats/gguf/split-set.ts';
import { checkModelSupport } from '../models/support.ts';
import { checkGGUFHead } from './manifest.ts';

/** Reads one file's header (magic first, so a web page or a zip says so plainly). */
export async function readPartHeader(src: ByteSource, fileIndex = 0): Promise<GGUFPart> {
  checkGGUFHead(await src.read(0, Math.min(4, src.size)), src.name);
  return readGGUFPart(src, fileIndex);
}

/** The parts in split order once they form one complete model this engine can run; else a typed error. */
export function checkModelParts(parts: readonly GGUFPart[]): GGUFPart[] {
  const ordered = orderSplitSet(parts);
  checkModelSupport({ metadata: ordered[0].metadata, tensors: ordered.flatMap((p) => p.tensors) });
  return ordered;
}
