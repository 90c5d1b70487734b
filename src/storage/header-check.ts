// The check import and download run before a byte of a model is stored: each file's GGUF header
// (never its tensor data) is read, the files are ordered into one split set, and the engine's
// support check decides. A model that cannot run is refused here, not after a multi-GB copy.
import type { ByteSource } from '../formats/byte-source.ts';
import { readGGUFPart, type GGUFPart } from '../formats/gguf/reader.ts';
import { orderSplitSet } from '../formats/gguf/split-set.ts';
import { fitOnDevice, refuseIfTooLarge, type FitReport, type FitRequest } from '../models/fit.ts';
import { checkModelSupport } from '../models/support.ts';
import { checkGGUFHead } from './manifest.ts';

/** Reads one file's header (magic first, so a web page or a zip says so plainly). */
export async function readPartHeader(src: ByteSource, fileIndex = 0): Promise<GGUFPart> {
  checkGGUFHead(await src.read(0, Math.min(4, src.size)), src.name);
  return readGGUFPart(src, fileIndex);
}

/**
 * The parts in split order once they form one complete model this engine can run — and, given a
 * device (`fit`), one whose memory pre-flight is not does-not-fit (DOES_NOT_FIT); else a typed error.
 */
export function checkModelParts(parts: readonly GGUFPart[], fit?: FitRequest): GGUFPart[] {
  checkModelFit(parts, fit);
  return orderSplitSet(parts);
}

/** checkModelParts' checks, returning the memory verdict when a device was given. */
export function checkModelFit(parts: readonly GGUFPart[], fit?: FitRequest): FitReport | undefined {
  const ordered = orderSplitSet(parts);
  const header = { metadata: ordered[0].metadata, tensors: ordered.flatMap((p) => p.tensors) };
  const { h, arch } = checkModelSupport(header);
  return fit ? refuseIfTooLarge(fitOnDevice(header, h, arch, fit), ordered[0].name) : undefined;
}
