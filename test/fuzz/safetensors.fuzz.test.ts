// safetensors headers of the HF fixtures, mutated as bytes and as JSON (wrong dtypes, shapes and
// offsets, deep nesting, huge numbers): a typed error or a consistent table, nothing else.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { ByteSource } from '../../src/formats/byte-source.ts';
import { readSafetensorsHeader } from '../../src/formats/safetensors/header.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { fixture } from '../fixtures.ts';
import { mutatedBytes, mutatedJson } from './mutate.ts';
import { fuzz } from './runner.ts';

/** 8-byte length and the JSON header; the data after it is not needed to read the header. */
function head(file: string): { header: Uint8Array; dataBytes: number } {
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = 8 + Number(len.readBigUInt64LE());
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, 0);
    return { header: new Uint8Array(b), dataBytes: statSync(file).size - n };
  } finally { closeSync(fd); }
}

const seeds = [
  head(fixture('arch', 'hf', 'dev-hf-mistral', 'model-00001-of-00002.safetensors')),
  head(fixture('arch', 'hf', 'dev-hf-mistral', 'model-00002-of-00002.safetensors')),
  head(fixture('models', 'TinyStories-656K', 'model.safetensors')),
];
const DATA = Math.max(...seeds.map((s) => s.dataBytes));
const jsonOf = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b.subarray(8)));

/** A header (mutated as bytes) followed by DATA bytes of zeros, never allocated. */
function file(header: Uint8Array): ByteSource {
  return {
    name: 'model.safetensors',
    size: header.length + DATA,
    async read(offset: number, length: number) {
      if (offset < 0 || length < 0 || offset + length > header.length + DATA) throw new EngineError('IO', 'read beyond the end');
      const out = new Uint8Array(length);
      if (offset < header.length) out.set(header.subarray(offset, offset + length));
      return out;
    },
  };
}

/** Header bytes of a (mutated) header document. */
function withHeader(doc: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(doc) ?? 'null');
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

it('safetensors header parser', { timeout: 1_800_000 }, async () => {
  const r = await fuzz({
    name: 'safetensors-header',
    input: fc.oneof(mutatedBytes(seeds.map((s) => s.header), () => 64), mutatedJson(seeds.map((s) => jsonOf(s.header))).map(withHeader)),
    size: (b) => b.length,
    capBytes: 64 * 2 ** 20,
    maxMs: 2000,
    run: (b) => readSafetensorsHeader(file(b)),
  });
  expect(r.runs).toBeGreaterThan(0);
});
