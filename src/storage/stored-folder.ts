// A stored multi-file model (an MLC-LLM folder kept as it was) seen as FolderFiles again: each
// stored file opens as its ChunkedSource, so openMLCFolder reads the same names it read at import.
import type { FolderFiles } from '../formats/safetensors/set.ts';
import { EngineError } from '../shared/errors.ts';
import type { ShardCache } from './shard-cache.ts';

export async function storedFolder(cache: ShardCache, id: string): Promise<FolderFiles> {
  const m = await cache.getManifest(id);
  if (!m) throw new EngineError('BAD_ARGUMENT', `No stored model with id "${id}"; it may have been deleted.`);
  const sources = await cache.openModelSource(id);
  const byName = new Map(m.files.map((f, i) => [f.name, sources[i]]));
  return {
    name: m.name,
    names: [...byName.keys()],
    async open(name) {
      const src = byName.get(name);
      if (!src) throw new EngineError('IO', `Stored model "${m.name}" has no file ${name}. Delete it and add it again.`);
      return src;
    },
  };
}
