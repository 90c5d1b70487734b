// MLC-LLM folders of families beyond llama: the architecture fixture written back as its HF folder
// (test/fixtures/hf-from-gguf.ts), that folder written as an MLC folder per scheme (mlc-writer.ts,
// mlc-llm's layout for the family: Qwen's fused c_attn, gate_up_proj; Gemma 3's language_model.*
// names with norms stored as w + 1; Gemma 2's fused qkv_proj; Llama 3.2's llama3 rope_scaling, whose
// rope_freqs must be regenerated), run by our WASM kernels.
// Reference: llama.cpp (node-llama-cpp) on the F32 GGUF convertToFile makes of the round-trip HF
// folder (the dequantized MLC weights, unfused) where convert writes the family, and our engine on
// that folder; |Δ ln ppl| ≤ 0.005. q0f32 is also checked against llama.cpp's ppl on the fixture GGUF.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LlamaLogLevel, getLlama, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertToFile } from '../../src/cli/convert.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModelInput } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { nodeFolder, openNodeFiles, openNodeModel } from '../../src/formats/node-file-source.ts';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import type { MLCModelFile } from '../../src/formats/mlc/folder.ts';
import { GGMLType } from '../../src/quant/types.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { fixture } from '../fixtures.ts';
import { llamaCppFilePpl } from '../llamacpp-ppl.ts';
import type { ArchRef } from '../engine/arch-cases.ts';
import { hfFromGGUF, type WrittenFolder } from '../fixtures/hf-from-gguf.ts';
import { writeMLCFolder, writeSafetensors, type MLCScheme } from '../fixtures/mlc-writer.ts';
import { f16ToF32 } from '../../src/quant/half.ts';
import { openSafetensorsSet } from '../../src/formats/safetensors/set.ts';

const dirs: string[] = [];
let llama: Llama;
beforeAll(async () => { llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled }); });
afterAll(async () => { await llama?.dispose(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });


const refs: Record<string, ArchRef> = JSON.parse(readFileSync(fixture('arch', 'llamacpp-refs.json'), 'utf8'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');

async function ppl(dir: string, ids?: number[]): Promise<{ ppl: number; ids: number[]; file: MLCModelFile }> {
  const m = await loadModelInput(await openNodeModel(dir), await createWasmBackend({ threads: 2 }));
  try {
    const t = m.tokenizer;
    const use = ids ?? [...(t.addBos ? [t.bosId!] : []), ...t.encode(sample)];
    return { ppl: (await new Session(m).perplexity(use)).ppl, ids: use, file: m.file as MLCModelFile };
  } finally {
    await m.dispose();
  }
}

const BLOCK: Record<MLCScheme, number> = { q4f16_1: GGMLType.MLC_Q4F16, q4f32_1: GGMLType.MLC_Q4F32, q0f16: GGMLType.F16, q0f32: GGMLType.F32 };
// [arch fixture, MLC model_type, schemes, tokenizer of the ids (as hf-families.test.ts: phi3's folder has a stand-in)]
const CASES: [string, string, MLCScheme[], 'hf' | 'gguf'][] = [
  ['dev-llama32.Q8_0.gguf', 'llama', ['q4f16_1', 'q0f32'], 'hf'],
  ['dev-qwen3.Q8_0.gguf', 'qwen3', ['q4f16_1', 'q0f32'], 'hf'],
  ['dev-gemma2.Q8_0.gguf', 'gemma2', ['q4f16_1', 'q0f32'], 'gguf'],
  ['dev-gemma3.Q8_0.gguf', 'gemma3', ['q0f32'], 'hf'],
  ['dev-phi3.Q8_0.gguf', 'phi3', ['q4f32_1', 'q0f32'], 'gguf'],
];

const hfDirs = new Map<string, Promise<WrittenFolder>>();
/** the fixture's HF folder, written once per file */
function hfWritten(file: string): Promise<WrittenFolder> {
  if (!hfDirs.has(file)) hfDirs.set(file, hfFromGGUF(fixture('arch', file)).then((w) => { dirs.push(w.dir); return w; }));
  return hfDirs.get(file)!;
}
const hfOf = async (file: string) => (await hfWritten(file)).dir;

async function f32Values(f: MLCModelFile, name: string): Promise<number[]> {
  const t = f.tensor(name);
  expect(t?.type, name).toBe(GGMLType.F32);
  return Array.from(new Float32Array((await f.readTensor(t!)).slice().buffer));
}

async function ggufIds(file: string): Promise<number[]> {
  const g = await openGGUF(await openNodeFiles(fixture('arch', file)));
  try {
    const t = tokenizerFromGGUF(g.metadata);
    return [...(t.addBos ? [t.bosId!] : []), ...t.encode(sample)];
  } finally { await g.close(); }
}

describe.each(CASES)('MLC folders of %s (%s)', (file, modelType, schemes, tok) => {
  it.each(schemes)('%s: ppl equals our HF path and llama.cpp on the round-trip weights (|Δ ln ppl| ≤ 0.005)', async (scheme) => {
    const hf = await hfOf(file);
    const w = await writeMLCFolder(hf, scheme, path.join(hf, 'out'), 1 << 20);
    const t0 = performance.now();
    const got = await ppl(w.mlc, tok === 'gguf' ? await ggufIds(file) : undefined);
    const ms = performance.now() - t0;
    const ours = await ppl(w.roundTrip, got.ids);
    const gguf = path.join(hf, 'out', `rt-${scheme}.F32.gguf`);
    // convert may not write this family yet: then llama.cpp cannot check it, and our HF path alone does
    const ref = await convertToFile(w.roundTrip, gguf, 'F32', { threads: 2 }).then(() => llamaCppFilePpl(llama, gguf, got.ids), (e: unknown) => {
      if (e instanceof EngineError && e.code === 'UNSUPPORTED_ARCH') return undefined;
      throw e;
    });
    const dOurs = Math.abs(Math.log(got.ppl) - Math.log(ours.ppl));
    const dRef = ref === undefined ? 0 : Math.abs(Math.log(got.ppl) - Math.log(ref));
    console.log(`${modelType} ${scheme}: MLC ppl ${got.ppl.toFixed(4)} (${ms.toFixed(0)} ms), our HF path ${ours.ppl.toFixed(4)} (Δln ${dOurs.toFixed(6)}), llama.cpp ${ref === undefined ? 'n/a (convert refuses the family)' : `${ref.toFixed(4)} (Δln ${dRef.toFixed(6)})`}`);
    expect(got.file.mlc).toMatchObject({ quantization: scheme, modelType });
    expect(got.file.metadata.get('general.architecture')).toBe(modelType);
    expect(got.file.tensor('blk.0.ffn_gate.weight')).toBeUndefined(); // gate_up_proj stays one tensor
    expect(got.file.tensor(modelType === 'gemma3' ? 'blk.0.attn_q.weight' : 'blk.0.attn_qkv.weight')?.type).toBe(BLOCK[scheme]);
    const written = await hfWritten(file);
    if (written.ropeFreqs) {
      // llama3 rope scaling: the rope_freqs llama.cpp's converter wrote into the fixture, regenerated from model_config
      const mc = JSON.parse(readFileSync(path.join(w.mlc, 'mlc-chat-config.json'), 'utf8')).model_config;
      expect(mc.rope_scaling).toMatchObject({ rope_type: 'llama3' });
      expect(await f32Values(got.file, 'rope_freqs.weight')).toEqual(Array.from(written.ropeFreqs));
    }
    if (modelType === 'gemma2') {
      const m = got.file.metadata;
      expect([m.get('gemma2.attn_logit_softcapping'), m.get('gemma2.final_logit_softcapping'), m.get('gemma2.attention.sliding_window')]).toEqual([50, 30, 64]);
      expect(got.ids.length).toBeGreaterThan(64); // the window slides within the text
    }
    expect(dOurs).toBeLessThanOrEqual(0.005);
    expect(dRef).toBeLessThanOrEqual(0.005);
    if (scheme === 'q0f32') {
      // q0f32 holds the fixture's dequantized Q8_0 values: llama.cpp's own ppl on the GGUF (0.01 as hf-families.test.ts)
      const r = refs[file];
      expect(got.ids.length).toBe(r.nTokens);
      const d = Math.abs(Math.log(got.ppl) - Math.log(r.ppl));
      console.log(`${modelType} q0f32 vs llama.cpp on ${file}: ${r.ppl.toFixed(1)} (Δln ${d.toFixed(4)})`);
      expect(d).toBeLessThanOrEqual(0.01);
    }
  }, 120_000);
});

// Llama 3.2's scaling hardly moves these tiny models over a short text (without it: Δln ≈ 0.002),
// so the same folder with an original context of 16 (every frequency but the fastest divided)
// shows that the MLC path applies the rope_freqs it generates.
describe('MLC folder with llama3 rope scaling over a short original context', () => {
  it('q4f16_1: ppl equals our HF path and llama.cpp on the round-trip weights, and differs without the scaling', async () => {
    const src = await hfOf('dev-llama32.Q8_0.gguf');
    const cfg = JSON.parse(readFileSync(path.join(src, 'config.json'), 'utf8'));
    const short = path.join(src, 'short-rope');
    mkdirSync(short);
    writeFileSync(path.join(short, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: { ...cfg.rope_scaling, original_max_position_embeddings: 16 } }));
    copyFileSync(path.join(src, 'model.safetensors'), path.join(short, 'model.safetensors'));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(src, f), path.join(short, f));
    const w = await writeMLCFolder(short, 'q4f16_1', path.join(src, 'out-short'), 1 << 20);
    const got = await ppl(w.mlc);
    const ours = await ppl(w.roundTrip, got.ids);
    const gguf = path.join(src, 'out-short', 'rt.F32.gguf');
    await convertToFile(w.roundTrip, gguf, 'F32', { threads: 2 });
    const ref = await llamaCppFilePpl(llama, gguf, got.ids);
    const f = path.join(w.mlc, 'mlc-chat-config.json');
    const mlcCfg = JSON.parse(readFileSync(f, 'utf8'));
    writeFileSync(f, JSON.stringify({ ...mlcCfg, model_config: { ...mlcCfg.model_config, rope_scaling: null } }));
    const plain = await ppl(w.mlc, got.ids);
    const [dOurs, dRef, without] = [ours.ppl, ref, plain.ppl].map((x) => Math.abs(Math.log(got.ppl) - Math.log(x)));
    console.log(`llama3 rope (original context 16) q4f16_1: MLC ppl ${got.ppl.toFixed(4)}, our HF path Δln ${dOurs.toFixed(6)}, llama.cpp ${ref.toFixed(4)} (Δln ${dRef.toFixed(6)}), without the scaling Δln ${without.toFixed(4)}`);
    expect(plain.file.tensor('rope_freqs.weight')).toBeUndefined();
    expect(dOurs).toBeLessThanOrEqual(0.005);
    expect(dRef).toBeLessThanOrEqual(0.005);
    expect(without).toBeGreaterThan(0.03); // measured 0.057, against 0.0002 from llama.cpp
  }, 120_000);
});

// Gemma 3 4B+ scale the global layers' rope linearly (factor 8): mlc-llm keeps HF's rope_scaling in
// text_config (and ignores it); the model as HF and llama.cpp define it applies it.
describe('MLC folder of a Gemma 3 with linear rope scaling', () => {
  it('q0f32: ppl equals our HF path and llama.cpp on the round-trip weights, and differs without the scaling', async () => {
    const src = await hfOf('dev-gemma3.Q8_0.gguf');
    const cfg = JSON.parse(readFileSync(path.join(src, 'config.json'), 'utf8'));
    const lin = path.join(src, 'linear-rope');
    mkdirSync(lin);
    const full = { ...cfg.rope_parameters.full_attention, rope_type: 'linear', factor: 8 };
    writeFileSync(path.join(lin, 'config.json'), JSON.stringify({ ...cfg, rope_parameters: { ...cfg.rope_parameters, full_attention: full } }));
    copyFileSync(path.join(src, 'model.safetensors'), path.join(lin, 'model.safetensors'));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(src, f), path.join(lin, f));
    const w = await writeMLCFolder(lin, 'q0f32', path.join(src, 'out-linear'), 1 << 22);
    const got = await ppl(w.mlc);
    const ours = await ppl(w.roundTrip, got.ids);
    const gguf = path.join(src, 'out-linear', 'rt.F32.gguf');
    await convertToFile(w.roundTrip, gguf, 'F32', { threads: 2 });
    const ref = await llamaCppFilePpl(llama, gguf, got.ids);
    const f = path.join(w.mlc, 'mlc-chat-config.json');
    const mlcCfg = JSON.parse(readFileSync(f, 'utf8'));
    expect(got.file.metadata.get('gemma3.rope.scaling.type')).toBe('linear');
    expect(got.file.metadata.get('gemma3.rope.scaling.factor')).toBe(8);
    writeFileSync(f, JSON.stringify({ ...mlcCfg, model_config: { ...mlcCfg.model_config, text_config: { ...mlcCfg.model_config.text_config, rope_scaling: 0 } } }));
    const plain = await ppl(w.mlc, got.ids);
    const [dOurs, dRef, without] = [ours.ppl, ref, plain.ppl].map((x) => Math.abs(Math.log(got.ppl) - Math.log(x)));
    console.log(`gemma3 linear rope q0f32: MLC ppl ${got.ppl.toFixed(4)}, our HF path Δln ${dOurs.toFixed(6)}, llama.cpp ${ref.toFixed(4)} (Δln ${dRef.toFixed(6)}), without the scaling Δln ${without.toFixed(4)}`);
    expect(dOurs).toBeLessThanOrEqual(0.005);
    expect(dRef).toBeLessThanOrEqual(0.005);
    // one global layer in six, 109 tokens: a small but deterministic effect (measured 0.0053, 66× the gap to llama.cpp)
    expect(without).toBeGreaterThan(0.004);
  }, 120_000);
});

// No Qwen2 fixture: the Qwen3 folder made a Qwen2 one (q/k norms dropped, q/k/v biases added), so
// the check is the MLC folder's fused c_attn.bias against our HF qwen2 path on the round-trip folder.
describe('MLC folder of a Qwen2 model (c_attn with biases)', () => {
  it('q4f16_1: ppl equals our HF path on the round-trip weights (|Δ ln ppl| ≤ 0.005)', async () => {
    const src = await hfOf('dev-qwen3.Q8_0.gguf');
    const cfg = JSON.parse(readFileSync(path.join(src, 'config.json'), 'utf8'));
    const { head_dim: _h, ...rest } = cfg;
    const dim = cfg.hidden_size / cfg.num_attention_heads;
    const set = await openSafetensorsSet(await nodeFolder(src));
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of set.tensors) {
      if (/\.[qk]_norm\./.test(name)) continue;
      let shape = [...t.shape];
      let data = new Float32Array((await set.sources[t.fileIndex].read(t.offset, t.byteSize)).slice().buffer);
      // Qwen2 heads are hidden/heads wide: keep the first rows of q/k/v and columns of o_proj
      const m = /self_attn\.([qkvo])_proj\.weight$/.exec(name);
      if (m && m[1] !== 'o') {
        const heads = m[1] === 'q' ? cfg.num_attention_heads : cfg.num_key_value_heads;
        shape = [heads * dim, shape[1]];
        data = data.slice(0, shape[0] * shape[1]);
        let seed = name.length;
        const bias = Float32Array.from({ length: shape[0] }, () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return (seed / 2 ** 31 - 0.5) * 0.5; });
        tensors.set(name.replace(/weight$/, 'bias'), { shape: [shape[0]], data: bias });
      } else if (m) {
        const cols = cfg.num_attention_heads * dim;
        data = Float32Array.from({ length: shape[0] * cols }, (_, i) => data[Math.floor(i / cols) * shape[1] + (i % cols)]);
        shape = [shape[0], cols];
      }
      tensors.set(name, { shape, data });
    }
    await Promise.all(set.sources.map((x) => x.close?.()));
    const q2 = path.join(src, 'qwen2');
    mkdirSync(q2);
    writeSafetensors(path.join(q2, 'model.safetensors'), tensors);
    writeFileSync(path.join(q2, 'config.json'), JSON.stringify({ ...rest, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(src, f), path.join(q2, f));
    const w = await writeMLCFolder(q2, 'q4f16_1', path.join(src, 'out2'), 1 << 20);
    const got = await ppl(w.mlc);
    const ours = await ppl(w.roundTrip, got.ids);
    const d = Math.abs(Math.log(got.ppl) - Math.log(ours.ppl));
    console.log(`qwen2 q4f16_1: MLC ppl ${got.ppl.toFixed(4)}, our HF path ${ours.ppl.toFixed(4)} (Δln ${d.toFixed(6)})`);
    expect(got.file.tensor('blk.0.attn_qkv.bias')?.shape).toEqual([(cfg.num_attention_heads + 2 * cfg.num_key_value_heads) * dim]);
    expect(d).toBeLessThanOrEqual(0.005);
    // c_attn.bias holds q, k, v's biases in that order (f16), as the round-trip folder's three
    const [mf, rf] = [await openNodeModel(w.mlc) as MLCModelFile, await openNodeModel(w.roundTrip) as MLCModelFile];
    try {
      const fused = Array.from(new Uint16Array((await mf.readTensor(mf.tensor('blk.0.attn_qkv.bias')!)).slice().buffer), f16ToF32);
      const parts: number[] = [];
      for (const x of ['q', 'k', 'v']) parts.push(...new Float32Array((await rf.readTensor(rf.tensor(`blk.0.attn_${x}.bias`)!)).slice().buffer));
      expect(fused).toEqual(parts);
    } finally { await mf.close(); await rf.close(); }
  }, 120_000);
});

// Phi-3.5-mini's layout: longrope over a 128k context trained at 4k. mlc-llm keeps the factors in
// model_config.rope_scaling; they become rope_factors_long/short with the attention factor, as the
// converter makes them. At these contexts (≤ 4k) both engines use the short factors.
describe('MLC folder of a Phi-3 longrope model', () => {
  it('q0f32: the factors from model_config, ppl equals our HF path and llama.cpp on the round-trip weights (|Δ ln ppl| ≤ 0.005)', async () => {
    const src = await hfOf('dev-phi3.Q8_0.gguf');
    const cfg = JSON.parse(readFileSync(path.join(src, 'config.json'), 'utf8'));
    const half = (cfg.partial_rotary_factor * cfg.hidden_size) / cfg.num_attention_heads / 2;
    const short = Array.from({ length: half }, (_, i) => 1 + 0.25 * i);
    const long = Array.from({ length: half }, (_, i) => 1 + 3 * i * i);
    const lr = path.join(src, 'longrope');
    mkdirSync(lr);
    writeFileSync(path.join(lr, 'config.json'), JSON.stringify({ ...cfg, max_position_embeddings: 131072, original_max_position_embeddings: 4096,
      rope_scaling: { type: 'longrope', short_factor: short, long_factor: long } }));
    for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(src, f), path.join(lr, f));
    const w = await writeMLCFolder(lr, 'q0f32', path.join(src, 'out-longrope'), 1 << 20);
    const got = await ppl(w.mlc, await ggufIds('dev-phi3.Q8_0.gguf'));
    const ours = await ppl(w.roundTrip, got.ids);
    const gguf = path.join(src, 'out-longrope', 'rt.F32.gguf');
    await convertToFile(w.roundTrip, gguf, 'F32', { threads: 2 });
    const ref = await llamaCppFilePpl(llama, gguf, got.ids);
    const [dOurs, dRef] = [ours.ppl, ref].map((x) => Math.abs(Math.log(got.ppl) - Math.log(x)));
    console.log(`phi3 longrope q0f32: MLC ppl ${got.ppl.toFixed(4)}, our HF path ${ours.ppl.toFixed(4)} (Δln ${dOurs.toFixed(6)}), llama.cpp ${ref.toFixed(4)} (Δln ${dRef.toFixed(6)})`);
    const f = got.file;
    expect(f.metadata.get('phi3.rope.scaling.attn_factor')).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
    expect(await f32Values(f, 'rope_factors_short.weight')).toEqual(short);
    expect(await f32Values(f, 'rope_factors_long.weight')).toEqual(long);
    expect(dOurs).toBeLessThanOrEqual(0.005);
    expect(dRef).toBeLessThanOrEqual(0.005);
  }, 120_000);
});

describe('MLC folders this engine does not read', () => {
  it('an unknown model_type, bad longrope factors, and Qwen rope_scaling (which mlc-llm never writes) are UNSUPPORTED_ARCH naming the file', async () => {
    const src = await hfOf('dev-phi3.Q8_0.gguf');
    const w = await writeMLCFolder(src, 'q0f16', path.join(src, 'bad'), 1 << 20);
    const f = path.join(w.mlc, 'mlc-chat-config.json');
    const good = JSON.parse(readFileSync(f, 'utf8'));
    writeFileSync(f, JSON.stringify({ ...good, model_type: 'gpt2' }));
    await expect(openNodeModel(w.mlc)).rejects.toMatchObject({ code: 'UNSUPPORTED_ARCH', message: expect.stringMatching(/mlc-chat-config\.json: model_type 'gpt2' cannot be read from an MLC folder yet \(supported: .*gemma2.*phi3/) });
    const eight = Array.from({ length: 8 }, () => 1);
    writeFileSync(f, JSON.stringify({ ...good, model_config: { ...good.model_config, max_position_embeddings: 8192, rope_scaling: { type: 'longrope', rope_type: 'longrope', long_factor: eight, short_factor: eight } } }));
    await expect(openNodeModel(w.mlc)).rejects.toMatchObject({ code: 'UNSUPPORTED_ARCH', message: expect.stringMatching(/mlc-chat-config\.json: Phi3ForCausalLM has longrope factors of lengths 8 and 8/) });
    writeFileSync(f, JSON.stringify({ ...good, model_type: 'qwen3', model_config: { ...good.model_config, rope_theta: 10000, rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 512 } } }));
    await expect(openNodeModel(w.mlc)).rejects.toMatchObject({ code: 'UNSUPPORTED_ARCH', message: expect.stringMatching(/mlc-chat-config\.json: model_config has rope_scaling .*mlc-llm's Qwen models have no rope scaling/) });
  });
});
