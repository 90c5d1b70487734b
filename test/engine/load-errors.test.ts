// A model file that is valid GGUF but not runnable must fail at load with a typed error naming the
// problem, before anything runs.
import { describe, expect, it } from 'vitest';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { writeGGUF, type WriterEntry } from '../../src/formats/gguf/writer.ts';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

type Edit = (meta: WriterEntry[], tensors: { name: string; type: number; shape: readonly number[]; byteSize: number; data: Uint8Array }[]) => void;

async function variant(edit: Edit): Promise<Uint8Array> {
  const f = await openGGUF(await openNodeFile(fixture('models', 'stories260K.gguf')));
  const meta = [...f.metadata].map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
  const tensors = await Promise.all(f.tensors.map(async (t) => ({ name: t.name, type: t.type, shape: t.shape, byteSize: t.byteSize, data: await f.readTensor(t) })));
  await f.close();
  edit(meta, tensors);
  return writeGGUF(meta, tensors);
}

async function loadError(bytes: Uint8Array): Promise<{ code: string; message: string }> {
  const backend = await createWasmBackend({ threads: 1 });
  try {
    const m = await loadModel(bytesSource(bytes, 'edited.gguf'), backend);
    await m.dispose();
    return { code: 'OK', message: '' };
  } catch (e) {
    backend.dispose();
    return e as { code: string; message: string };
  }
}

describe('loading models we cannot run', () => {
  it('unsupported architecture', async () => {
    const e = await loadError(await variant((meta) => { meta.find((m) => m.key === 'general.architecture')!.value = 'mamba'; }));
    expect(e.code).toBe('UNSUPPORTED_ARCH');
    expect(e.message).toMatch(/'mamba'.*supported: llama, qwen2/);
  });

  it('unsupported tensor type names tensor and type', async () => {
    const e = await loadError(await variant((_, ts) => {
      const t = ts.find((x) => x.name === 'blk.2.ffn_up.weight')!;
      t.type = GGMLType.IQ2_XXS; // a real llama.cpp type we do not implement
      t.shape = [64, 172];
    }));
    expect(e.code).toBe('UNSUPPORTED_TYPE');
    expect(e.message).toMatch(/blk\.2\.ffn_up\.weight.*IQ2_XXS/);
  });

  it('missing tensor and wrong shape', async () => {
    const missing = await loadError(await variant((_, ts) => { ts.splice(ts.findIndex((t) => t.name === 'blk.1.attn_k.weight'), 1); }));
    expect(missing.code).toBe('MISSING_TENSOR');
    expect(missing.message).toMatch(/blk\.1\.attn_k\.weight/);
    const shape = await loadError(await variant((meta) => { meta.find((m) => m.key === 'llama.feed_forward_length')!.value = 256; }));
    expect(shape.code).toBe('BAD_SHAPE');
    expect(shape.message).toMatch(/ffn_gate\.weight.*\[64,172\].*\[64,256\]/);
  });

  it('absurd hyper-parameters', async () => {
    const e = await loadError(await variant((meta) => { meta.find((m) => m.key === 'llama.attention.head_count')!.value = 0; }));
    expect(e.code).toBe('BAD_SHAPE');
  });
});
