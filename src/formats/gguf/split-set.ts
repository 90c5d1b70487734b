// Which files make one split model (llama.cpp's gguf-split layout: split.no / split.count /
// split.tensors.count in every part, the model's metadata in part 1 only). The headers decide the
// order, so renamed files still import; a part missing, given twice or from another model is
// refused naming the files, before anything is stored.
import { EngineError, GGUFError, SplitSetError } from '../../shared/errors.ts';
import type { GGUFPart } from './reader.ts';

const SHARD_RE = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

interface SplitInfo { part: GGUFPart; no: number; count: number; tensors?: number }

function num(p: GGUFPart, key: string): number | undefined {
  const v = p.metadata.get(key);
  return typeof v === 'number' ? v : undefined;
}

function splitInfo(part: GGUFPart): SplitInfo {
  return { part, no: num(part, 'split.no') ?? 0, count: num(part, 'split.count') ?? 1, tensors: num(part, 'split.tensors.count') };
}

/** Name part `no` (0-based) would have, following the first pattern-named file. */
function expectedName(infos: SplitInfo[], no: number, count: number): string {
  const m = infos.map((i) => SHARD_RE.exec(i.part.name)).find(Boolean);
  const pad = (n: number) => String(n).padStart(5, '0');
  return m ? `${m[1]}-${pad(no + 1)}-of-${pad(count)}.gguf` : `part ${no + 1} of ${count}`;
}

/** The parts of one model in split order (a single file passes through), or a SplitSetError. */
export function orderSplitSet(parts: readonly GGUFPart[]): GGUFPart[] {
  if (parts.length === 0) throw new EngineError('BAD_ARGUMENT', 'No file selected.');
  const infos = parts.map(splitInfo);
  if (infos.length > 1 && infos.every((i) => i.count === 1)) {
    throw new SplitSetError('SPLIT_FOREIGN',
      `${infos.map((i) => i.part.name).join(', ')} are separate single-file models, not parts of one split model; import them one at a time.`);
  }
  const ref = infos.find((i) => i.no === 0) ?? infos[0];
  const { count } = ref;
  for (const i of infos) {
    if (i.count !== count) {
      throw new SplitSetError('SPLIT_FOREIGN', i.count === 1
        ? `${i.part.name} is a whole single-file model, not a part of the model split into ${count} files that ${ref.part.name} belongs to.`
        : `${i.part.name} belongs to a model split into ${i.count} files, but ${ref.part.name} to one split into ${count}; they are not parts of the same model.`);
    }
    if (!Number.isInteger(i.no) || i.no < 0 || i.no >= count) {
      throw new GGUFError('GGUF_CORRUPT', `${i.part.name} claims to be part ${i.no + 1} of ${count}; the file is corrupt.`);
    }
    if (i.tensors !== undefined && ref.tensors !== undefined && i.tensors !== ref.tensors) {
      throw new SplitSetError('SPLIT_FOREIGN',
        `${i.part.name} is a part of a model with ${i.tensors} tensors, but ${ref.part.name} of one with ${ref.tensors}; they are not parts of the same model.`);
    }
    const arch = i.part.metadata.get('general.architecture');
    const refArch = ref.part.metadata.get('general.architecture');
    if (arch !== undefined && refArch !== undefined && arch !== refArch) {
      throw new SplitSetError('SPLIT_FOREIGN', `${i.part.name} is a part of a '${String(arch)}' model, but ${ref.part.name} of a '${String(refArch)}' one.`);
    }
  }
  // Renamed files are fine, but two different shard-name prefixes mean two different downloads.
  const prefix = (i: SplitInfo) => SHARD_RE.exec(i.part.name)?.[1];
  const other = infos.every((i) => prefix(i) !== undefined) ? infos.find((i) => prefix(i) !== prefix(ref)) : undefined;
  if (other) {
    throw new SplitSetError('SPLIT_FOREIGN', `${other.part.name} does not belong to the same split model as ${ref.part.name}.`);
  }
  const byNo = new Map<number, SplitInfo>();
  for (const i of infos) {
    const seen = byNo.get(i.no);
    if (seen) {
      throw new SplitSetError('SPLIT_DUPLICATE', seen.part.name === i.part.name
        ? `${i.part.name} was selected twice; select each part once.`
        : `${seen.part.name} and ${i.part.name} are both part ${i.no + 1} of ${count}; select each part once.`);
    }
    byNo.set(i.no, i);
  }
  const missing = Array.from({ length: count }, (_, n) => n).filter((n) => !byNo.has(n));
  if (missing.length > 0) {
    const head = missing.length === 1 ? 'part' : 'parts';
    throw new SplitSetError('SPLIT_MISSING',
      `This model is split into ${count} files; ${head} ${missing.map((n) => n + 1).join(', ')} ` +
      `(${missing.map((n) => expectedName(infos, n, count)).join(', ')}) ${missing.length === 1 ? 'is' : 'are'} missing. Select all ${count} parts together.`);
  }
  const ordered = Array.from({ length: count }, (_, n) => byNo.get(n)!.part);
  checkTensorSet(ordered, ref);
  return ordered;
}

/** Parts with the right numbers can still come from two models: their tensors must add up exactly. */
function checkTensorSet(ordered: GGUFPart[], ref: SplitInfo): void {
  const owner = new Map<string, string>();
  for (const p of ordered) {
    for (const t of p.tensors) {
      const prev = owner.get(t.name);
      if (prev) {
        throw new SplitSetError('SPLIT_FOREIGN', `Tensor '${t.name}' is in both ${prev} and ${p.name}; they are not parts of the same model.`);
      }
      owner.set(t.name, p.name);
    }
  }
  if (ref.tensors !== undefined && owner.size !== ref.tensors) {
    throw new SplitSetError('SPLIT_FOREIGN',
      `The ${ordered.length} parts hold ${owner.size} tensors, but ${ref.part.name} says the model has ${ref.tensors}; a part is from another model.`);
  }
}
