// Stores a GGUF file that is being written (a Hugging Face folder converted on the device) straight
// into the shard cache, without holding the file in memory. The writer puts the header first and
// then tensor data at fixed offsets, possibly a few chunks out of order: the header says how large
// the file will be, the engine's support and memory checks run on it before anything is stored, and
// the pieces go into the cache in file order as soon as the bytes before them are there.
// On any failure, cancellation included, the partly stored model is deleted.
import { readGGUFPart, type GGUFPart } from '../formats/gguf/reader.ts';
import { parseHeader } from '../formats/gguf/header-parser.ts';
import type { FitRequest } from '../models/fit.ts';
import { check } from '../shared/assert.ts';
import { EngineError } from '../shared/errors.ts';
import { checkModelParts } from './header-check.ts';
import { checkGGUFHead, checkModelId, modelIdFrom, type ModelManifest } from './manifest.ts';
import { exclusiveModelWrite } from './model-lock.ts';
import { ensureQuota } from './quota.ts';
import { defaultShardCache, type ShardCache } from './shard-cache.ts';
import { abortError } from './storage-errors.ts';

/** Where the writer puts its bytes (the shape of quant/quantize-model.ts' QuantizeSink). */
export interface PositionalSink {
  write(pos: number, bytes: Uint8Array): Promise<void>;
}

export interface ConvertedImportOptions {
  /** display name; also gives the id (modelIdFrom) unless `modelId` is set */
  name: string;
  modelId?: string;
  /** the stored file's name */
  fileName?: string;
  signal?: AbortSignal;
  cache?: ShardCache;
  fit?: FitRequest;
}

/** Header bytes seen as a file of `size` bytes (the data region reads as zeros: only the parser looks). */
function headerOnly(header: Uint8Array, size: number, name: string) {
  return {
    size, name,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const out = new Uint8Array(length);
      if (offset < header.length) out.set(header.subarray(offset, Math.min(header.length, offset + length)));
      return out;
    },
  };
}

/**
 * Runs `produce` with a sink that stores what it writes as model `name`, then marks the model
 * complete once exactly the header's size arrived. Resolves with the stored manifest.
 */
export async function importConverted(produce: (sink: PositionalSink) => Promise<unknown>,
  opts: ConvertedImportOptions): Promise<ModelManifest> {
  const cache = opts.cache ?? defaultShardCache();
  const id = opts.modelId ?? modelIdFrom(opts.name);
  checkModelId(id);
  // the whole conversion holds the model's lock: another tab cannot write that id meanwhile
  return exclusiveModelWrite(id, opts.name, () => storeConverted(produce, opts, cache, id));
}

async function storeConverted(produce: (sink: PositionalSink) => Promise<unknown>, opts: ConvertedImportOptions,
  cache: ShardCache, id: string): Promise<ModelManifest> {
  const fileName = opts.fileName ?? `${id}.gguf`;
  const existing = await cache.getManifest(id);
  check(!existing?.complete, 'BAD_ARGUMENT', `A model with id "${id}" is already stored; delete it first.`);
  if (existing) await cache.deleteModel(id);

  let size = -1;
  let created = false;
  let frontier = 0; // bytes handed to the cache so far, in file order
  const waiting = new Map<number, Uint8Array>(); // written ahead of the frontier, by position
  const pipe = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: 2 }, { highWaterMark: 2 });
  const writer = pipe.writable.getWriter();
  let storing: Promise<ModelManifest> | undefined;

  const start = async (header: Uint8Array): Promise<void> => {
    checkGGUFHead(header, fileName);
    const part = await readConvertedHeader(header, fileName);
    size = part.size;
    checkModelParts([part], opts.fit); // unsupported or too large for this device: refused, nothing stored
    await ensureQuota(opts.name, size);
    await cache.createModel({ id, name: opts.name, files: [{ name: fileName, size }], source: { kind: 'file' } });
    created = true;
    storing = cache.putFile(id, 0, pipe.readable, { signal: opts.signal });
    storing.catch((e) => writer.abort(e).catch(() => {})); // a storage failure stops the writer's next write
  };

  const sink: PositionalSink = {
    async write(pos, bytes) {
      if (opts.signal?.aborted) throw abortError(`Importing ${opts.name}`);
      if (size < 0) {
        check(pos === 0, 'BAD_ARGUMENT', `${fileName}: the converter wrote byte ${pos} before the header.`);
        await start(bytes);
      }
      if (pos + bytes.length > size) throw new EngineError('IO', `${fileName}: the converter wrote past the ${size} bytes its header announces.`);
      if (pos !== frontier) {
        check(pos > frontier && !waiting.has(pos), 'BAD_ARGUMENT', `${fileName}: byte ${pos} was written twice.`);
        waiting.set(pos, bytes.slice()); // the caller may reuse its buffer
        return;
      }
      let next: Uint8Array | undefined = bytes;
      while (next) {
        await writer.ready;
        await Promise.race([writer.write(next.slice()), storing!.then(() => undefined)]);
        frontier += next.length;
        next = waiting.get(frontier);
        waiting.delete(frontier);
      }
    },
  };

  try {
    await produce(sink);
    if (opts.signal?.aborted) throw abortError(`Importing ${opts.name}`);
    if (size < 0) throw new EngineError('IO', `${fileName}: the converter wrote nothing.`);
    if (frontier !== size) {
      throw new EngineError('IO', `${fileName}: the converter left bytes ${frontier}…${size} unwritten; nothing was stored.`);
    }
    await writer.close();
    await storing;
    return await cache.markComplete(id);
  } catch (e) {
    await writer.abort(e).catch(() => {});
    await storing?.catch(() => {});
    if (created) await cache.deleteModel(id).catch(() => {});
    throw e;
  }
}

/** The header's part (tensor table, metadata) with the file size it implies. */
export async function readConvertedHeader(header: Uint8Array, name: string): Promise<GGUFPart> {
  const probe = await readGGUFPart(headerOnly(header, Number.MAX_SAFE_INTEGER, name));
  const align = probe.alignment;
  let end = Math.ceil(parseHeader(header, Number.MAX_SAFE_INTEGER, name).headerBytes / align) * align;
  for (const t of probe.tensors) {
    if (!Number.isFinite(t.byteSize)) throw new EngineError('BAD_ARGUMENT', `${name}: tensor '${t.name}' has a type this engine cannot store.`);
    end = Math.max(end, t.offset + Math.ceil(t.byteSize / align) * align);
  }
  return readGGUFPart(headerOnly(header, end, name));
}
