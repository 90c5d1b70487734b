// The safetensors header parser and shard sets: real files parse to the tensors they hold, and
// every kind of bad input is a typed error naming the file (and tensor) — read before any large
// allocation, so an absurd header length costs 8 bytes of reading, not 2^40 of memory.
import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../../src/formats/byte-source.ts';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { nodeFolder, openNodeFile } from '../../src/formats/node-file-source.ts';
import { readSafetensorsHeader } from '../../src/formats/safetensors/header.ts';
import { openSafetensorsSet, type FolderFiles } from '../../src/formats/safetensors/set.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

/** A safetensors file: 8-byte length, the JSON header (as given, so it may be broken), then data. */
function file(header: string | object, data = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A source that remembers the largest read asked of it. */
function watched(bytes: Uint8Array, name = 'x.safetensors'): ByteSource & { maxRead: number } {
  const inner = bytesSource(bytes, name);
  const s = { ...inner, maxRead: 0, read: (o: number, n: number) => { s.maxRead = Math.max(s.maxRead, n); return inner.read(o, n); } };
  return s;
}

const parse = (bytes: Uint8Array, name = 'x.safetensors') => readSafetensorsHeader(bytesSource(bytes, name));

describe('safetensors header', () => {
  it('reads dtype, shape and absolute offsets, and __metadata__', async () => {
    const h = await parse(file({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
      b: { dtype: 'BF16', shape: [4], data_offsets: [24, 32] },
      c: { dtype: 'F16', shape: [], data_offsets: [32, 34] },
    }, new Uint8Array(34)));
    expect(h.metadata).toEqual({ format: 'pt' });
    const jsonLen = h.tensors[0].offset - 8;
    expect(h.tensors.map((t) => [t.name, t.type, t.shape, t.offset - 8 - jsonLen, t.byteSize])).toEqual([
      ['a', GGMLType.F32, [2, 3], 0, 24], ['b', GGMLType.BF16, [4], 24, 8], ['c', GGMLType.F16, [], 32, 2],
    ]);
  });

  it('parses the TinyStories-656K file: 20 F32 tensors, lm_head only', async () => {
    const src = await openNodeFile(fixture('models', 'TinyStories-656K', 'model.safetensors'));
    const h = await readSafetensorsHeader(src);
    await src.close?.();
    expect(h.tensors.length).toBe(20);
    expect(h.tensors.every((t) => t.dtype === 'F32')).toBe(true);
    expect(h.tensors.find((t) => t.name === 'lm_head.weight')?.shape).toEqual([2048, 128]);
    expect(h.tensors.some((t) => t.name === 'model.embed_tokens.weight')).toBe(false);
    expect(h.tensors.reduce((a, t) => a + t.byteSize / 4, 0)).toBe(656_000);
  });

  it('a header length of 2^40 is rejected after reading 8 bytes', async () => {
    const src = watched(file({}, new Uint8Array(0), 2n ** 40n));
    await expect(readSafetensorsHeader(src)).rejects.toMatchObject({ code: 'SAFETENSORS_TRUNCATED', message: expect.stringContaining('x.safetensors') });
    expect(src.maxRead).toBe(8);
  });

  it('a header length just past the end of the file is a truncation', async () => {
    const bytes = file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    await expect(parse(bytes.subarray(0, 20))).rejects.toMatchObject({ code: 'SAFETENSORS_TRUNCATED', message: expect.stringMatching(/truncated/) });
    await expect(parse(new Uint8Array(5))).rejects.toMatchObject({ code: 'SAFETENSORS_TRUNCATED' });
  });

  it('bad JSON, non-object JSON and invalid UTF-8 are BAD_ARGUMENT', async () => {
    await expect(parse(file('{"a": {'))).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT', message: expect.stringMatching(/not valid UTF-8 JSON/) });
    await expect(parse(file('[1,2]'))).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT', message: expect.stringMatching(/not a JSON object/) });
    const bytes = file('{"\u00ff":1}');
    bytes[10] = 0xff; // a lone continuation-less byte inside the key
    await expect(parse(bytes)).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT' });
  });

  it('offsets outside the data are a truncation naming the tensor', async () => {
    const bytes = file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8));
    await expect(parse(bytes)).rejects.toMatchObject({ code: 'SAFETENSORS_TRUNCATED', message: expect.stringMatching(/tensor 'w'.*beyond/) });
  });

  it('malformed offsets and shapes are BAD_ARGUMENT naming the tensor', async () => {
    for (const bad of [
      { dtype: 'F32', shape: [1], data_offsets: [4, 0] },
      { dtype: 'F32', shape: [1], data_offsets: [0] },
      { dtype: 'F32', shape: [-1], data_offsets: [0, 4] },
      { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] },
      { shape: [1], data_offsets: [0, 4] },
    ]) {
      await expect(parse(file({ w: bad }, new Uint8Array(4)))).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT', message: expect.stringContaining("tensor 'w'") });
    }
  });

  it('a dtype/shape that disagrees with the byte length is BAD_ARGUMENT', async () => {
    const bytes = file({ w: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 24] } }, new Uint8Array(24));
    await expect(parse(bytes)).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT', message: expect.stringMatching(/needs 12 bytes but its data_offsets span 24/) });
  });

  it('a duplicate tensor name is BAD_ARGUMENT (JSON.parse would keep the last silently)', async () => {
    const json = '{"w": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "w" : {"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    await expect(parse(file(json, new Uint8Array(8)))).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT', message: expect.stringMatching(/'w' appears twice/) });
    // the same name nested deeper, or escaped quotes in names, are not duplicates
    const ok = '{"__metadata__": {"w": "x", "q\\"": "y"}, "w": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect((await parse(file(ok, new Uint8Array(4)))).tensors.map((t) => t.name)).toEqual(['w']);
  });

  it('an unsupported dtype is UNSUPPORTED_TYPE naming tensor and dtype', async () => {
    const bytes = file({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    await expect(parse(bytes)).rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE', message: expect.stringMatching(/'w' is I64/) });
  });
});

/** An in-memory folder. */
function folder(files: Record<string, Uint8Array | string>): FolderFiles {
  const enc = (v: Uint8Array | string) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  return { name: 'mem', names: Object.keys(files), open: async (n) => bytesSource(enc(files[n]), n) };
}
const one = (name: string) => file({ [name]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
const index = (map: Record<string, string>) => JSON.stringify({ metadata: {}, weight_map: map });

describe('safetensors shard sets', () => {
  it('the sharded dev-hf-mistral folder: every tensor of the index, in the shard it names', async () => {
    const set = await openSafetensorsSet(await nodeFolder(fixture('arch', 'hf', 'dev-hf-mistral')));
    expect(set.sources.map((s) => s.name)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(set.tensors.size).toBe(20);
    expect(set.tensors.get('model.embed_tokens.weight')).toMatchObject({ fileIndex: 0, dtype: 'BF16', shape: [32000, 128] });
    expect(set.tensors.get('model.norm.weight')?.fileIndex).toBe(1);
    await Promise.all(set.sources.map((s) => s.close?.()));
  });

  it('a shard the index names but the folder lacks is an IO error naming it', async () => {
    const dir = folder({ 'model.safetensors.index.json': index({ a: 's1.safetensors', b: 's2.safetensors' }), 's1.safetensors': one('a') });
    await expect(openSafetensorsSet(dir)).rejects.toMatchObject({ code: 'SPLIT_MISSING', message: expect.stringMatching(/shard s2.safetensors.*missing/) });
  });

  it('a tensor the index puts in a shard that does not hold it is MISSING_TENSOR', async () => {
    const dir = folder({ 'model.safetensors.index.json': index({ a: 's1.safetensors', b: 's1.safetensors' }), 's1.safetensors': one('a') });
    await expect(openSafetensorsSet(dir)).rejects.toMatchObject({ code: 'MISSING_TENSOR', message: expect.stringMatching(/'b'.*s1.safetensors/) });
  });

  it('one tensor in two shards, a bad index and no weights at all are typed errors', async () => {
    const two = folder({ 'model.safetensors.index.json': index({ a: 's1.safetensors', b: 's2.safetensors' }), 's1.safetensors': one('a'), 's2.safetensors': one('a') });
    await expect(openSafetensorsSet(two)).rejects.toMatchObject({ code: 'SPLIT_DUPLICATE', message: expect.stringMatching(/'a' is in two shards/) });
    await expect(openSafetensorsSet(folder({ 'model.safetensors.index.json': '{"weight_map": 3}' }))).rejects.toMatchObject({ code: 'SAFETENSORS_CORRUPT' });
    await expect(openSafetensorsSet(folder({ 'model.safetensors.index.json': '{' }))).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(openSafetensorsSet(folder({ 'config.json': '{}' }))).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/neither model.safetensors/) });
  });

  it('a truncated shard fails naming the shard', async () => {
    const s = file({ w: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, new Uint8Array(32));
    const dir = folder({ 'model.safetensors': s.subarray(0, s.length - 4) });
    await expect(openSafetensorsSet(dir)).rejects.toMatchObject({ code: 'SAFETENSORS_TRUNCATED', message: expect.stringMatching(/model.safetensors: tensor 'w'/) });
  });
});
