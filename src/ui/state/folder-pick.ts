// The page's ways to pick a model folder, each giving the folder's Files by path relative to its
// root: `<input webkitdirectory>`, the File System Access API's showDirectoryPicker(), and dropped
// items (DataTransfer webkitGetAsEntry). The worker reads them as FolderFiles (formats/blob-folder.ts).
import type { FolderImportRequest } from '../../worker/api.ts';

export type PickedFolder = FolderImportRequest['folder'];

/** Files of an `<input webkitdirectory>` (or a plain multi-file pick): the first path part is the folder. */
export function folderFromFileList(files: readonly File[]): PickedFolder {
  if (files.length === 0) throw new Error('No folder selected.');
  const rel = files.map((f) => (f.webkitRelativePath || f.name).split('/').filter(Boolean));
  const root = rel[0].length > 1 ? rel[0][0] : '';
  const inRoot = root !== '' && rel.every((parts) => parts.length > 1 && parts[0] === root);
  return {
    name: inRoot ? root : 'folder',
    files: files.map((file, i) => ({ path: (inRoot ? rel[i].slice(1) : rel[i]).join('/'), file })),
  };
}

// The File System Access API and the entries API, typed here to what is used (not in every lib.dom).
interface DirHandle { kind: 'directory'; name: string; values(): AsyncIterable<DirHandle | FileHandle> }
interface FileHandle { kind: 'file'; name: string; getFile(): Promise<File> }

/** A folder from showDirectoryPicker(), subfolders included. */
export async function folderFromDirectoryHandle(dir: DirHandle): Promise<PickedFolder> {
  const files: { path: string; file: File }[] = [];
  const walk = async (d: DirHandle, prefix: string): Promise<void> => {
    for await (const h of d.values()) {
      if (h.kind === 'file') files.push({ path: prefix + h.name, file: await h.getFile() });
      else await walk(h, `${prefix}${h.name}/`);
    }
  };
  await walk(dir, '');
  return { name: dir.name, files };
}

interface Entry { isFile: boolean; isDirectory: boolean; name: string }
interface FileEntry extends Entry { file(ok: (f: File) => void, fail: (e: unknown) => void): void }
interface DirEntry extends Entry { createReader(): { readEntries(ok: (e: Entry[]) => void, fail: (e: unknown) => void): void } }

async function entryFiles(entry: Entry, prefix: string, out: { path: string; file: File }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileEntry).file(ok, fail));
    out.push({ path: prefix + entry.name, file });
    return;
  }
  const reader = (entry as DirEntry).createReader();
  // readEntries hands out a directory in batches (100 in Chromium) until it returns none
  for (;;) {
    const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return;
    for (const e of batch) await entryFiles(e, `${prefix}${entry.name}/`, out);
  }
}

/** Dropped items: one folder (its contents, named from inside it), or loose files as a folder. */
export async function folderFromEntries(entries: readonly Entry[]): Promise<PickedFolder> {
  if (entries.length === 0) throw new Error('Nothing was dropped.');
  const files: { path: string; file: File }[] = [];
  if (entries.length === 1 && entries[0].isDirectory) {
    await entryFiles(entries[0], '', files);
    const cut = entries[0].name.length + 1;
    return { name: entries[0].name, files: files.map((f) => ({ path: f.path.slice(cut), file: f.file })) };
  }
  for (const e of entries) await entryFiles(e, '', files);
  return { name: 'dropped files', files };
}
