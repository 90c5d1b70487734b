import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { ValueType } from '../../src/formats/gguf/constants.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

const stories = fixture('models', 'stories260K.gguf');

async function openBytes(b: Uint8Array) {
  return openGGUF(bytesSource(b, 'test.gguf'));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return e.code;
  }
  return 'OK';
}

describe('GGUF reader on real files', () => {
  it('reads stories260K header as documented in the fixture README', async () => {
    const f = await openGGUF(await openNodeFile(stories));
    expect(f.version).toBe(3);
    expect(f.metadata.size).toBe(19);
    expect(f.tensors.length).toBe(48);
    expect(f.alignment).toBe(32);
    expect(f.metadata.get('general.architecture')).toBe('llama');
    expect(f.metadata.get('llama.embedding_length')).toBe(64);
    expect(f.metadata.get('llama.attention.head_count_kv')).toBe(4);
    expect(f.metadata.get('tokenizer.ggml.seperator_token_id')).toBe(4294967295);
    const tokens = f.metadata.get('tokenizer.ggml.tokens') as string[];
    expect(tokens.length).toBe(512);
    expect(tokens[1]).toBe('<s>');
    expect(f.metadata.get('tokenizer.ggml.scores')).toBeInstanceOf(Float32Array);
    const emb = f.tensor('token_embd.weight')!;
    expect(emb.shape).toEqual([64, 512]);
    expect(emb.type).toBe(GGMLType.F32);
    const last = f.tensors.reduce((a, t) => (t.offset > a.offset ? t : a));
    expect(last.offset + last.byteSize).toBe(1185376); // the data fills the file exactly
    const bytes = await f.readTensor(emb);
    expect(bytes.length).toBe(64 * 512 * 4);
    await f.close();
  });

  it('opens every fixture GGUF, including vocab-only files', async () => {
    const dirs = [fixture('quant'), fixture('models'), fixture('tokenizers', 'llama.cpp')];
    let n = 0;
    for (const dir of dirs) {
      for (const name of readdirSync(dir).filter((x) => x.endsWith('.gguf'))) {
        const f = await openGGUF(await openNodeFile(`${dir}/${name}`));
        expect(f.metadata.get('general.architecture'), name).toBeTypeOf('string');
        if (dir.endsWith('llama.cpp')) expect(f.tensors.length).toBe(0);
        await f.close();
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(25);
  });

  it('keeps metadata value types so files can be rewritten faithfully', async () => {
    const f = await openGGUF(await openNodeFile(stories));
    expect(f.metadataTypes.get('llama.context_length')).toEqual({ type: ValueType.UINT32 });
    expect(f.metadataTypes.get('tokenizer.ggml.tokens')).toEqual({ type: ValueType.ARRAY, elemType: ValueType.STRING });
    const entries = [...f.metadata].map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
    const tensors = await Promise.all(f.tensors.map(async (t) => ({ ...t, data: await f.readTensor(t) })));
    const copy = writeGGUF(entries, tensors);
    expect(Buffer.compare(Buffer.from(copy), readFileSync(stories))).toBe(0); // byte-identical round trip
  });
});

// A small valid file built with our writer, then damaged in specific ways.
function smallModel(opts: { offsetDelta?: number; type?: number; alignment?: number } = {}): Uint8Array {
  const data = new Uint8Array(64 * 4);
  const entries = [
    { key: 'general.architecture', value: 'llama', type: { type: ValueType.STRING } },
    { key: 'general.name', value: 'x', type: { type: ValueType.STRING } },
  ];
  const out = writeGGUF(entries, [
    { name: 'a', type: GGMLType.F32, shape: [64], byteSize: 256, data },
    { name: 'b', type: opts.type ?? GGMLType.F32, shape: [64], byteSize: 256, data },
  ]);
  if (opts.offsetDelta) {
    // tensor 'b' offset is the last u64 of the tensor table
    const view = new DataView(out.buffer);
    const pos = findTensorTableEnd(out) - 8;
    view.setBigUint64(pos, view.getBigUint64(pos, true) + BigInt(opts.offsetDelta), true);
  }
  return out;
}

function findTensorTableEnd(b: Uint8Array): number {
  // header ends right before the zero padding that aligns the data section; 'b' is the last name
  const s = Buffer.from(b).lastIndexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x62])); // len(u64)=1,'b'
  return s + 9 + 4 + 8 + 4 + 8;
}

describe('GGUF reader on bad input', () => {
  const good = readFileSync(stories);

  it('accepts the undamaged small file', async () => {
    expect(await codeOf(openBytes(smallModel()))).toBe('OK');
  });

  it('wrong magic', async () => {
    const b = Uint8Array.from(good);
    b.set(new TextEncoder().encode('GGML'), 0);
    expect(await codeOf(openBytes(b))).toBe('GGUF_BAD_MAGIC');
    expect(await codeOf(openBytes(new TextEncoder().encode('<!DOCTYPE html><html>not a model</html>')))).toBe('GGUF_BAD_MAGIC');
  });

  it('unsupported version', async () => {
    const b = Uint8Array.from(good);
    new DataView(b.buffer).setUint32(4, 1, true);
    expect(await codeOf(openBytes(b))).toBe('GGUF_BAD_VERSION');
  });

  it('truncated anywhere: header or tensor data', async () => {
    for (const len of [0, 3, 10, 23, 100, 5000, 20000, good.length - 1]) {
      const code = await codeOf(openBytes(good.subarray(0, len)));
      expect(code, `cut at ${len}`).toBe('GGUF_TRUNCATED');
    }
  });

  it('absurd tensor and kv counts are refused before allocating', async () => {
    for (const pos of [8, 16]) {
      const b = Uint8Array.from(good);
      new DataView(b.buffer).setBigUint64(pos, 0xffffffffffffn, true);
      expect(await codeOf(openBytes(b))).toBe('GGUF_LIMIT');
    }
  });

  it('absurd string and array lengths', async () => {
    const b = Uint8Array.from(good);
    new DataView(b.buffer).setBigUint64(24, 1n << 50n, true); // length of the first key
    expect(['GGUF_LIMIT', 'GGUF_CORRUPT']).toContain(await codeOf(openBytes(b)));
    const arr = Uint8Array.from(good);
    const at = Buffer.from(arr).indexOf('tokenizer.ggml.tokens') + 'tokenizer.ggml.tokens'.length + 8; // type(4) + elemType(4)
    new DataView(arr.buffer).setBigUint64(at, 1n << 40n, true);
    expect(await codeOf(openBytes(arr))).toBe('GGUF_CORRUPT');
  });

  it('tensor data beyond the end of the file', async () => {
    expect(await codeOf(openBytes(smallModel({ offsetDelta: 4096 })))).toBe('GGUF_TRUNCATED');
  });

  it('misaligned tensor offsets', async () => {
    expect(await codeOf(openBytes(smallModel({ offsetDelta: 4 })))).toBe('GGUF_CORRUPT');
  });

  it('unsupported tensor type: opens, but reading the tensor names tensor and type', async () => {
    const f = await openBytes(smallModel({ type: GGMLType.IQ2_XXS }));
    const t = f.tensor('b')!;
    await expect(f.readTensor(t)).rejects.toThrow(/'b'.*IQ2_XXS/);
    await expect(f.readTensor(t)).rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE' });
  });

  it('our in-memory MLC block types (ids 1000, 1001) are refused in a file, naming tensor and id', async () => {
    for (const type of [GGMLType.MLC_Q4F16, GGMLType.MLC_Q4F32]) {
      await expect(openBytes(smallModel({ type }))).rejects.toMatchObject({ code: 'GGUF_CORRUPT', message: expect.stringMatching(new RegExp(`tensor 'b' has type id ${type}, which is no ggml type`)) });
    }
  });

  it('random header corruption never escapes as an untyped error or hangs', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 300; i++) {
      const b = Uint8Array.from(good.subarray(0, 12000));
      for (let k = 0; k < 4; k++) b[Math.floor(rnd() * 12000)] = Math.floor(rnd() * 256);
      await codeOf(openBytes(b)); // throws only if the error is not an EngineError
    }
  });
});
