// Node-only ByteSource over a file handle (CLI, tests). Never reads more than asked.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { readdir, stat } from 'node:fs/promises';
import { EngineError } from '../shared/errors.ts';
import type { ByteSource } from './byte-source.ts';
import { checkRange } from './range.ts';
import type { GGUFFile } from './gguf/reader.ts';
import { openHFFolder } from './hf/folder.ts';
import { MLC_CONFIG, openMLCFolder } from './mlc/folder.ts';
import type { FolderFiles } from './safetensors/set.ts';

export async function openNodeFile(file: string): Promise<ByteSource> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new EngineError('IO', `Cannot open ${file}: ${(e as Error).message}`, { cause: e });
  }
  const size = (await fh.stat()).size;
  const name = path.basename(file);
  const readInto = async (offset: number, buf: Uint8Array) => {
    checkRange(name, size, offset, buf.length);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await fh.read(buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) throw new EngineError('IO', `${name}: unexpected end of file at byte ${offset + done}.`);
      done += bytesRead;
    }
  };
  return {
    size,
    name,
    async read(offset, length) {
      checkRange(name, size, offset, length);
      const buf = new Uint8Array(length);
      await readInto(offset, buf);
      return buf;
    },
    readInto,
    close: () => fh.close(),
  };
}

/** For `x-00001-of-00003.gguf` returns all parts in order; otherwise just the file. */
export async function resolveSplitFiles(file: string): Promise<string[]> {
  const m = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i.exec(path.basename(file));
  if (!m) return [file];
  const n = Number(m[3]);
  const dir = path.dirname(file);
  const present = new Set(await readdir(dir));
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) {
    const part = `${m[1]}-${String(i).padStart(5, '0')}-of-${m[3]}.gguf`;
    if (!present.has(part)) throw new EngineError('IO', `Split model part ${part} is missing next to ${path.basename(file)} (${n} parts expected).`);
    parts.push(path.join(dir, part));
  }
  return parts;
}

export async function openNodeFiles(file: string): Promise<ByteSource[]> {
  const parts = await resolveSplitFiles(file);
  return Promise.all(parts.map(openNodeFile));
}

/** A directory's files as a FolderFiles (each opened on demand). */
export async function nodeFolder(dir: string): Promise<FolderFiles> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() || d.isSymbolicLink()).map((d) => d.name);
  } catch (e) {
    throw new EngineError('IO', `Cannot read the folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return { name: dir, names, open: (name) => openNodeFile(path.join(dir, name)) };
}

/** `--model PATH`: a GGUF file (with its split parts), or a Hugging Face or MLC-LLM folder presented as a GGUFFile. */
export async function openNodeModel(model: string): Promise<ByteSource[] | GGUFFile> {
  const isDir = await stat(model).then((s) => s.isDirectory(), () => false);
  if (!isDir) return openNodeFiles(model);
  const dir = await nodeFolder(model);
  return dir.names.includes(MLC_CONFIG) ? openMLCFolder(dir) : openHFFolder(dir);
}
