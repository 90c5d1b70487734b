// MLC-LLM folders run by our kernels: for each scheme, the MLC folder the fixture writer makes of an
// HF folder (fused qkv/gate_up, q_weight + q_scale groups) must give the perplexity llama.cpp
// (node-llama-cpp) gives on the F32 GGUF that convertFolder makes of the round-trip HF folder
// (f32 safetensors of exactly the dequantized MLC weights, unfused); our engine on the round-trip
// folder itself must agree too.
// Then bad folders: each must fail with a typed error naming the file and tensor.
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlamaLogLevel, getLlama, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertToFile } from '../../src/cli/convert.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModelInput } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openNodeModel } from '../../src/formats/node-file-source.ts';
import type { MLCModelFile } from '../../src/formats/mlc/folder.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { fixture } from '../fixtures.ts';
import { llamaCppFilePpl } from '../llamacpp-ppl.ts';
import { writeMLCFolder, type MLCScheme } from '../fixtures/mlc-writer.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlc-test-'));
let llama: Llama;
beforeAll(async () => { llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled }); });
afterAll(async () => { await llama?.dispose(); rmSync(tmp, { recursive: true, force: true }); });

const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const story = /> (Once upon a time, there was a little girl named Lily\..*?so she)\n/s
  .exec(readFileSync(fixture('models', 'README.md'), 'utf8'))![1].replace(/\\n/g, '\n');

async function ppl(dir: string, text: string): Promise<{ ppl: number; ids: number[]; file: MLCModelFile }> {
  const m = await loadModelInput(await openNodeModel(dir), await createWasmBackend({ threads: 2 }));
  try {
    const ids = [m.tokenizer.bosId!, ...m.tokenizer.encode(text)];
    return { ppl: (await new Session(m).perplexity(ids)).ppl, ids, file: m.file as MLCModelFile };
  } finally {
    await m.dispose();
  }
}

const SOURCES = [
  ['dev-hf-mistral', fixture('arch', 'hf', 'dev-hf-mistral'), sample],
  ['TinyStories-656K', fixture('models', 'TinyStories-656K'), story],
] as const;
const SCHEMES: MLCScheme[] = ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'];
const BLOCK: Record<MLCScheme, number> = { q4f16_1: GGMLType.MLC_Q4F16, q4f32_1: GGMLType.MLC_Q4F32, q0f16: GGMLType.F16, q0f32: GGMLType.F32 };

describe.each(SOURCES)('MLC folders of %s', (name, src, text) => {
  it.each(SCHEMES)('%s: perplexity equals llama.cpp\'s on the round-trip weights (|Δ ln ppl| ≤ 0.005)', async (scheme) => {
    const out = path.join(tmp, name);
    const dirs = await writeMLCFolder(src, scheme, out, 1 << 20);
    const got = await ppl(dirs.mlc, text);
    const ours = await ppl(dirs.roundTrip, text);
    const gguf = path.join(out, `rt-${scheme}.F32.gguf`);
    await convertToFile(dirs.roundTrip, gguf, 'F32', { threads: 2 });
    const ref = await llamaCppFilePpl(llama, gguf, got.ids);
    const delta = Math.abs(Math.log(got.ppl) - Math.log(ref));
    const deltaOurs = Math.abs(Math.log(got.ppl) - Math.log(ours.ppl));
    console.log(`${name} ${scheme}: MLC ppl ${got.ppl.toFixed(4)} vs llama.cpp ${ref.toFixed(4)} (Δln ${delta.toFixed(6)}), our HF path ${ours.ppl.toFixed(4)} (Δln ${deltaOurs.toFixed(6)})`);
    expect(deltaOurs).toBeLessThanOrEqual(0.005);
    expect(got.file.mlc).toMatchObject({ quantization: scheme, modelType: name === 'dev-hf-mistral' ? 'mistral' : 'llama' });
    expect(got.file.tensor('blk.0.attn_qkv.weight')?.type).toBe(BLOCK[scheme]);
    expect(got.file.tensor('blk.0.ffn_up.weight')?.shape[1]).toBeGreaterThan(got.file.tensor('blk.0.ffn_down.weight')!.shape[0]);
    expect(delta).toBeLessThanOrEqual(0.005);
  }, 120_000);
});

describe('MLC block source', () => {
  it('any byte range reads as the same bytes of the whole (blocks cut anywhere, across tensors and shards)', async () => {
    const dirs = await writeMLCFolder(fixture('models', 'TinyStories-656K'), 'q4f32_1', path.join(tmp, 'ranges'), 1 << 18);
    const f = await openNodeModel(dirs.mlc) as MLCModelFile;
    try {
      const src = f.sources[0];
      const whole = await src.read(0, src.size);
      let seed = 5;
      const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
      for (let i = 0; i < 50; i++) {
        const at = rnd(src.size);
        const len = Math.min(src.size - at, 1 + rnd(5000));
        expect(Buffer.compare(await src.read(at, len), whole.subarray(at, at + len)), `${len} bytes at ${at}`).toBe(0);
      }
      const t = f.tensor('blk.1.ffn_down.weight')!;
      expect(Buffer.compare(await f.readTensor(t), whole.subarray(t.offset, t.offset + t.byteSize))).toBe(0);
    } finally {
      await f.close();
    }
  });
});

describe('bad MLC folders', () => {
  const fresh = async (tag: string) => (await writeMLCFolder(fixture('models', 'TinyStories-656K'), 'q4f16_1', path.join(tmp, `bad-${tag}`), 1 << 20)).mlc;
  const failure = async (dir: string) => {
    try {
      const f = await openNodeModel(dir);
      await (f as MLCModelFile).close();
    } catch (e) {
      if (e instanceof EngineError) return e;
      throw e;
    }
    throw new Error('did not throw');
  };
  const editCache = (dir: string, edit: (j: { records: { dataPath: string; nbytes: number; records: { name: string; byteOffset: number; nbytes: number }[] }[] }) => void) => {
    const f = path.join(dir, 'tensor-cache.json');
    const j = JSON.parse(readFileSync(f, 'utf8'));
    edit(j);
    writeFileSync(f, JSON.stringify(j));
  };

  it('a record beyond its shard', async () => {
    const dir = await fresh('beyond');
    editCache(dir, (j) => { j.records[0].records[1].byteOffset = j.records[0].nbytes; });
    const e = await failure(dir);
    expect(e.code).toBe('MLC_CORRUPT');
    expect(e.message).toMatch(/tensor-cache\.json.*tensor '.+' \(in params_shard_0\.bin\) lies beyond its shard/);
  });

  it('a shard missing, or truncated', async () => {
    const dir = await fresh('shard');
    truncateSync(path.join(dir, 'params_shard_0.bin'), 100);
    let e = await failure(dir);
    expect(e.code).toBe('MLC_TRUNCATED');
    expect(e.message).toContain('params_shard_0.bin has 100 bytes');
    unlinkSync(path.join(dir, 'params_shard_0.bin'));
    e = await failure(dir);
    expect(e.code).toBe('SPLIT_MISSING');
    expect(e.message).toContain('params_shard_0.bin');
  });

  it('an unknown quantization scheme', async () => {
    const dir = await fresh('scheme');
    const f = path.join(dir, 'mlc-chat-config.json');
    writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), quantization: 'q3f16_1' }));
    const e = await failure(dir);
    expect(e.code).toBe('UNSUPPORTED_TYPE');
    expect(e.message).toMatch(/mlc-chat-config\.json: quantization 'q3f16_1' is not supported/);
    writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), quantization: 'q4f32_1' }));
    const e2 = await failure(dir);
    expect(e2.code).toBe('MLC_CORRUPT');
    expect(e2.message).toMatch(/tensor '.+' has 4-bit groups with float16 scales, which the folder's quantization \(q4f32_1\) does not make/);
  });

  it('tensor-cache.json malformed: not JSON, a bad record, q_weight without q_scale', async () => {
    const dir = await fresh('json');
    const f = path.join(dir, 'tensor-cache.json');
    const good = readFileSync(f, 'utf8');
    writeFileSync(f, good.slice(0, 100));
    let e = await failure(dir);
    expect(e.message).toMatch(/tensor-cache\.json is not valid JSON/);
    writeFileSync(f, good);
    editCache(dir, (j) => { j.records[0].records[0].nbytes += 2; });
    e = await failure(dir);
    expect(e.code).toBe('MLC_CORRUPT');
    expect(e.message).toMatch(/tensor 'model\.embed_tokens\.q_weight' \(in params_shard_0\.bin\) is \d+ bytes/);
    writeFileSync(f, good);
    editCache(dir, (j) => { j.records[0].records = j.records[0].records.filter((r) => r.name !== 'model.embed_tokens.q_scale'); });
    e = await failure(dir);
    expect(e.message).toMatch(/tensor 'model\.embed_tokens' has q_weight but no q_scale/);
  });
});
