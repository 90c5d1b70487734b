// A model folder in the browser as FolderFiles over File objects (the page picks them:
// ui/state/folder-pick.ts). Names are relative to the folder root ('/' between parts); nothing is
// read until a file is opened, and then only the ranges asked for (Blob.slice).
import { EngineError } from '../shared/errors.ts';
import { blobSource } from './blob-source.ts';
import type { FolderFiles } from './safetensors/set.ts';

/** What crosses to the worker (structured clone keeps the Files as references, not copies). */
export interface PickedFolder {
  readonly name: string;
  readonly files: readonly { readonly path: string; readonly file: Blob }[];
}

export function blobFolder(picked: PickedFolder): FolderFiles {
  const byName = new Map<string, Blob>();
  for (const { path, file } of picked.files) {
    if (byName.has(path)) throw new EngineError('BAD_ARGUMENT', `${picked.name}: the file ${path} was given twice.`);
    byName.set(path, file);
  }
  return {
    name: picked.name,
    names: [...byName.keys()],
    async open(name) {
      const blob = byName.get(name);
      if (!blob) throw new EngineError('IO', `${picked.name}/${name} is not in the folder.`);
      return blobSource(blob, name);
    },
  };
}
