// A model's safetensors: one `model.safetensors`, or the shards `model.safetensors.index.json`
// names. Tensors keep pointing into their shard (fileIndex, absolute offset): nothing is copied.
import type { ByteSource } from '../byte-source.ts';
import { EngineError } from '../../shared/errors.ts';
import { readSafetensorsHeader, type SafeTensor } from './header.ts';

/** The files of a model folder, by name (a Node directory, a browser folder pick, dropped files). */
export interface FolderFiles {
  /** for messages: the folder's path or name */
  readonly name: string;
  readonly names: readonly string[];
  /** opens one file of `names` (IO error when it cannot) */
  open(name: string): Promise<ByteSource>;
}

export type ShardTensor = SafeTensor & { readonly fileIndex: number };

export interface SafetensorsSet {
  readonly sources: readonly ByteSource[];
  readonly tensors: ReadonlyMap<string, ShardTensor>;
  /** `__metadata__` of the first shard */
  readonly metadata: Readonly<Record<string, string>>;
}

export const INDEX_NAME = 'model.safetensors.index.json';

/** Small text files of a folder (configs, templates); a 64 MiB cap keeps a wrong pick from filling memory. */
export async function readTextFile(dir: FolderFiles, name: string): Promise<string> {
  const src = await dir.open(name);
  try {
    if (src.size > 64 << 20) throw new EngineError('BAD_ARGUMENT', `${dir.name}/${name} is ${src.size} bytes, too big for a model folder's text file.`);
    return new TextDecoder().decode(await src.read(0, src.size));
  } finally {
    await src.close?.();
  }
}

export async function readJsonFile(dir: FolderFiles, name: string): Promise<unknown> {
  const text = await readTextFile(dir, name);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EngineError('BAD_ARGUMENT', `${dir.name}/${name} is not valid JSON (${(e as Error).message}).`, { cause: e });
  }
}

async function shardNames(dir: FolderFiles): Promise<{ shards: string[]; weightMap: Map<string, string> | null }> {
  if (dir.names.includes(INDEX_NAME)) {
    const index = await readJsonFile(dir, INDEX_NAME) as { weight_map?: unknown };
    const wm = index?.weight_map;
    if (!wm || typeof wm !== 'object' || Array.isArray(wm)) {
      throw new EngineError('SAFETENSORS_CORRUPT', `${dir.name}/${INDEX_NAME} has no weight_map object.`);
    }
    const weightMap = new Map(Object.entries(wm as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    const shards = [...new Set(weightMap.values())];
    for (const s of shards) {
      if (!dir.names.includes(s)) throw new EngineError('SPLIT_MISSING', `${dir.name}: shard ${s}, named in ${INDEX_NAME}, is missing from the folder.`);
    }
    return { shards, weightMap };
  }
  if (dir.names.includes('model.safetensors')) return { shards: ['model.safetensors'], weightMap: null };
  throw new EngineError('IO', `${dir.name} has neither model.safetensors nor ${INDEX_NAME}.`);
}

export async function openSafetensorsSet(dir: FolderFiles): Promise<SafetensorsSet> {
  const { shards, weightMap } = await shardNames(dir);
  const sources: ByteSource[] = [];
  try {
    const tensors = new Map<string, ShardTensor>();
    let metadata: Readonly<Record<string, string>> = {};
    for (let i = 0; i < shards.length; i++) {
      const src = await dir.open(shards[i]);
      sources.push(src);
      const h = await readSafetensorsHeader(src);
      if (i === 0) metadata = h.metadata;
      for (const t of h.tensors) {
        if (tensors.has(t.name)) throw new EngineError('SPLIT_DUPLICATE', `${dir.name}: tensor '${t.name}' is in two shards (${shards[tensors.get(t.name)!.fileIndex]} and ${shards[i]}).`);
        tensors.set(t.name, { ...t, fileIndex: i });
      }
    }
    for (const [name, shard] of weightMap ?? []) {
      const t = tensors.get(name);
      if (!t || shards[t.fileIndex] !== shard) {
        throw new EngineError('MISSING_TENSOR', `${dir.name}: ${INDEX_NAME} puts tensor '${name}' in ${shard}, which does not hold it.`);
      }
    }
    return { sources, tensors, metadata };
  } catch (e) {
    await Promise.all(sources.map((s) => s.close?.()));
    throw e;
  }
}
