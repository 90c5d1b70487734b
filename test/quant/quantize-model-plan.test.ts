// Per-tensor type choices of the quantization mixes on shapes the dev fixture cannot show (16 layers,
// tied embeddings, rows that do not fill 256-value blocks), against llama.cpp's rules worked out by
// hand; and the typed errors a user meets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.ts';
import { quantizeFile } from '../../src/cli/quantize.ts';
import type { GGUFFile, GGUFTensorInfo } from '../../src/formats/gguf/reader.ts';
import { planQuantization, type FileTypeName } from '../../src/quant/quantize-model.ts';
import { GGMLType, ggmlTypeName } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'quantize-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeModel(nLayers: number, opts: { tied?: boolean; dim?: number; ff?: number; vocab?: number; kvHeads?: number } = {}): GGUFFile {
  const dim = opts.dim ?? 512, ff = opts.ff ?? 1024, vocab = opts.vocab ?? 1000;
  const t = (name: string, ...shape: number[]): GGUFTensorInfo => {
    const nElements = shape.reduce((a, b) => a * b, 1);
    return { name, type: GGMLType.F32, shape, nElements, offset: 0, byteSize: nElements * 4, fileIndex: 0 };
  };
  const tensors = [t('token_embd.weight', dim, vocab), t('output_norm.weight', dim)];
  if (!opts.tied) tensors.push(t('output.weight', dim, vocab));
  for (let i = 0; i < nLayers; i++) {
    tensors.push(t(`blk.${i}.attn_norm.weight`, dim), t(`blk.${i}.attn_q.weight`, dim, dim), t(`blk.${i}.attn_k.weight`, dim, dim / 4),
      t(`blk.${i}.attn_v.weight`, dim, dim / 4), t(`blk.${i}.attn_output.weight`, dim, dim), t(`blk.${i}.ffn_norm.weight`, dim),
      t(`blk.${i}.ffn_gate.weight`, dim, ff), t(`blk.${i}.ffn_up.weight`, dim, ff), t(`blk.${i}.ffn_down.weight`, ff, dim));
  }
  const metadata = new Map<string, number | string>([
    ['general.architecture', 'llama'], ['llama.block_count', nLayers], ['llama.attention.head_count', 8],
    ['llama.attention.head_count_kv', opts.kvHeads ?? 2], ['general.file_type', 0],
  ]);
  const metadataTypes = new Map([...metadata].map(([k, v]) => [k, { type: typeof v === 'string' ? 8 : 4 }]));
  return {
    version: 3, metadata, metadataTypes, tensors, alignment: 32, sources: [],
    tensor: (n) => tensors.find((x) => x.name === n), readTensor: async () => new Uint8Array(0), readTensorInto: async () => false, close: async () => undefined,
  };
}

const typesOf = (f: GGUFFile, ftype: FileTypeName) =>
  new Map(planQuantization(f, ftype).tensors.map((p) => [p.src.name, ggmlTypeName(p.type)]));
const layersWith = (types: Map<string, string>, tensor: string, type: string) =>
  [...Array(16).keys()].filter((i) => types.get(`blk.${i}.${tensor}.weight`) === type);

describe('mix rules on a 16-layer model', () => {
  // use_more_bits(i, 16): i < 2 || i >= 14 || (i - 2) % 3 == 2
  const moreBits = [0, 1, 4, 7, 10, 13, 14, 15];

  it('Q4_K_M: attn_v and ffn_down get Q6_K on the use_more_bits layers; output Q6_K; norms F32', () => {
    const ty = typesOf(fakeModel(16), 'Q4_K_M');
    expect(layersWith(ty, 'attn_v', 'Q6_K')).toEqual(moreBits);
    expect(layersWith(ty, 'ffn_down', 'Q6_K')).toEqual(moreBits);
    expect(layersWith(ty, 'attn_q', 'Q4_K')).toHaveLength(16);
    expect(ty.get('output.weight')).toBe('Q6_K');
    expect(ty.get('token_embd.weight')).toBe('Q4_K');
    expect(ty.get('blk.3.ffn_norm.weight')).toBe('F32');
  });

  it('Q4_K_S: first 4 attn_v and the first n/8 ffn_down get Q5_K', () => {
    const ty = typesOf(fakeModel(16), 'Q4_K_S');
    expect(layersWith(ty, 'attn_v', 'Q5_K')).toEqual([0, 1, 2, 3]);
    expect(layersWith(ty, 'ffn_down', 'Q5_K')).toEqual([0, 1]);
  });

  it('Q3_K_M: attn_v Q5_K on the first two, Q4_K after; ffn_down Q5_K below n/16 then Q4_K; attn_output Q4_K', () => {
    const ty = typesOf(fakeModel(16), 'Q3_K_M');
    expect(layersWith(ty, 'attn_v', 'Q5_K')).toEqual([0, 1]);
    expect(layersWith(ty, 'attn_v', 'Q4_K')).toHaveLength(14);
    expect(layersWith(ty, 'ffn_down', 'Q5_K')).toEqual([0]);
    expect(layersWith(ty, 'ffn_down', 'Q4_K')).toHaveLength(15);
    expect(layersWith(ty, 'attn_output', 'Q4_K')).toHaveLength(16);
    expect(ty.get('blk.5.ffn_up.weight')).toBe('Q3_K');
  });

  it('Q2_K with GQA 4: attn_v Q4_K, ffn_down and attn_output Q3_K', () => {
    const ty = typesOf(fakeModel(16), 'Q2_K');
    expect(layersWith(ty, 'attn_v', 'Q4_K')).toHaveLength(16);
    expect(layersWith(ty, 'ffn_down', 'Q3_K')).toHaveLength(16);
    expect(layersWith(ty, 'attn_output', 'Q3_K')).toHaveLength(16);
  });

  it('Q8_0 keeps output Q8_0; F16 converts every matrix, output included, and keeps norms', () => {
    expect(typesOf(fakeModel(2), 'Q8_0').get('output.weight')).toBe('Q8_0');
    const f16 = typesOf(fakeModel(2), 'F16');
    expect(f16.get('output.weight')).toBe('F16');
    expect(f16.get('blk.1.ffn_down.weight')).toBe('F16');
    expect(f16.get('blk.1.ffn_norm.weight')).toBe('F32');
  });
});

describe('IQ4 mixes (no imatrix)', () => {
  for (const ftype of ['IQ4_NL', 'IQ4_XS'] as const) {
    it(`${ftype}: attn_v Q5_K with GQA ≥ 4 (else ${ftype}), ffn_down Q5_K below n/8, output Q6_K, the rest ${ftype}`, () => {
      const ty = typesOf(fakeModel(16), ftype);
      expect(layersWith(ty, 'attn_v', 'Q5_K')).toHaveLength(16);
      expect(layersWith(ty, 'ffn_down', 'Q5_K')).toEqual([0, 1]);
      expect(layersWith(ty, 'ffn_down', ftype)).toHaveLength(14);
      for (const t of ['attn_q', 'attn_k', 'attn_output', 'ffn_gate', 'ffn_up']) expect(layersWith(ty, t, ftype), t).toHaveLength(16);
      expect(ty.get('output.weight')).toBe('Q6_K');
      expect(ty.get('token_embd.weight')).toBe(ftype);
      expect(ty.get('blk.3.attn_norm.weight')).toBe('F32');
      expect(layersWith(typesOf(fakeModel(16, { kvHeads: 8 }), ftype), 'attn_v', ftype)).toHaveLength(16);
    });
  }

  it('IQ4_XS rows not divisible by 256 fall back to IQ4_NL, by 32 neither to F16; IQ4_NL to F16', () => {
    const xs = typesOf(fakeModel(8, { dim: 96, ff: 160 }), 'IQ4_XS');
    expect(xs.get('blk.2.attn_q.weight')).toBe('IQ4_NL');
    expect(xs.get('blk.0.ffn_down.weight')).toBe('Q5_1'); // Q5_K (first n/8) on a 160-wide row
    expect(xs.get('output.weight')).toBe('Q8_0');
    expect(typesOf(fakeModel(2, { dim: 40, ff: 80 }), 'IQ4_XS').get('blk.0.attn_q.weight')).toBe('F16');
    const nl = typesOf(fakeModel(8, { dim: 96, ff: 160 }), 'IQ4_NL');
    expect(nl.get('blk.2.attn_q.weight')).toBe('IQ4_NL');
    expect(nl.get('output.weight')).toBe('Q8_0'); // Q6_K on a 96-wide row
    expect(typesOf(fakeModel(2, { dim: 40, ff: 80 }), 'IQ4_NL').get('blk.0.attn_q.weight')).toBe('F16');
  });
});

describe('shapes', () => {
  it('tied embeddings take the output type', () => {
    expect(typesOf(fakeModel(2, { tied: true }), 'Q4_K_M').get('token_embd.weight')).toBe('Q6_K');
    expect(typesOf(fakeModel(2, { tied: true }), 'Q4_0').get('token_embd.weight')).toBe('Q6_K');
  });

  it('rows not divisible by 256 fall back (Q4_K→Q5_0, Q6_K→Q8_0, output→Q8_0); by 32 neither → F16', () => {
    const ty = typesOf(fakeModel(8, { dim: 96, ff: 160 }), 'Q4_K_M');
    expect(ty.get('blk.2.attn_q.weight')).toBe('Q5_0');
    expect(ty.get('blk.0.ffn_down.weight')).toBe('Q8_0'); // Q6_K on a 160-wide row
    expect(ty.get('output.weight')).toBe('Q8_0');
    expect(typesOf(fakeModel(2, { dim: 40, ff: 80 }), 'Q4_0').get('blk.0.attn_q.weight')).toBe('F16');
  });

  it('tensor order is llama.cpp\'s: non-layer tensors, then by layer number, each by name', () => {
    const names = planQuantization(fakeModel(11), 'Q8_0').tensors.map((p) => p.src.name);
    expect(names.slice(0, 4)).toEqual(['output.weight', 'output_norm.weight', 'token_embd.weight', 'blk.0.attn_k.weight']);
    expect(names.indexOf('blk.2.attn_k.weight')).toBeLessThan(names.indexOf('blk.10.attn_k.weight'));
  });
});

describe('errors', () => {
  it('refuses an already quantized model', async () => {
    await expect(quantizeFile(fixture('quant', 'dev-llama.Q4_0.gguf'), path.join(tmp, 'x.gguf'), 'Q8_0'))
      .rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/already quantized/) });
  });

  it('refuses a file that is not GGUF and leaves no output behind', async () => {
    const bad = path.join(tmp, 'bad.gguf');
    writeFileSync(bad, 'not a model at all, just some text');
    const out = path.join(tmp, 'out.gguf');
    await expect(quantizeFile(bad, out, 'Q8_0')).rejects.toMatchObject({ code: 'GGUF_BAD_MAGIC' });
    await expect(import('node:fs/promises').then((fs) => fs.stat(out))).rejects.toThrow();
  });

  it('argument errors: unknown type, missing paths, same input and output', async () => {
    expect(() => parseCli(['quantize', '--in', 'a.gguf', '--type', 'Q4_K_X', '--out', 'b.gguf'])).toThrow(/--type must be one of/);
    expect(() => parseCli(['quantize', '--in', 'a.gguf', '--type', 'Q8_0'])).toThrow(/--out PATH/);
    expect(parseCli(['quantize', '--in', 'a.gguf', '--type', 'Q8_0', '--out', 'b.gguf'])).toMatchObject({ in: 'a.gguf', type: 'Q8_0', out: 'b.gguf' });
    const f = fixture('quant', 'dev-llama.f32.gguf');
    await expect(quantizeFile(f, f, 'Q8_0')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
