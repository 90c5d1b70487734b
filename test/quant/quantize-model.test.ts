// `cli quantize` against llama.cpp: our files for dev-llama.f32.gguf must be byte-identical to the ones
// llama-quantize wrote (same tensor types per tensor, same metadata, same blocks), and llama.cpp itself
// (node-llama-cpp) must load them and find the same perplexity we do.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LlamaLogLevel, getLlama, type ControlledEvaluateInputItem, type Llama, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeFile } from '../../src/cli/quantize.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFile, openNodeFiles } from '../../src/formats/node-file-source.ts';
import { ggmlTypeName } from '../../src/quant/types.ts';
import { fixture } from '../fixtures.ts';

const TYPES = ['Q4_K_M', 'Q8_0', 'Q4_0', 'IQ4_NL', 'IQ4_XS'] as const;
/** where llama-quantize's file and its recorded perplexity sit (the IQ4 files: made later, in arch) */
const dirOf = (t: string) => (t.startsWith('IQ4') ? 'arch' : 'quant');
const tmp = mkdtempSync(path.join(tmpdir(), 'quantize-model-'));
const ours = (t: string) => path.join(tmp, `dev-llama.${t}.gguf`);
const theirs = (t: string) => fixture(dirOf(t), `dev-llama.${t}.gguf`);
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');

let llama: Llama;
beforeAll(async () => {
  for (const t of TYPES) await quantizeFile(fixture('quant', 'dev-llama.f32.gguf'), ours(t), t);
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
});
afterAll(async () => {
  await llama?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function tensorTable(file: string) {
  const f = await openGGUF(await openNodeFile(file));
  try {
    const rows = [];
    for (const t of f.tensors) rows.push({ name: t.name, type: ggmlTypeName(t.type), shape: t.shape, data: await f.readTensor(t) });
    return { rows, meta: f.metadata };
  } finally {
    await f.close();
  }
}

/** llama.cpp's perplexity over `ids` (all in one context, plain softmax). */
async function llamaCppPpl(file: string, ids: number[]): Promise<number> {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const ctx = await model.createContext({ contextSize: 512, batchSize: 512, threads: 2 });
    const seq = ctx.getSequence();
    const toks = ids as Token[];
    const input = toks.map((id, i): ControlledEvaluateInputItem => (i < toks.length - 1 ? [id, { generateNext: { probabilities: true } }] : id));
    const out = await seq.controlledEvaluate(input);
    let nll = 0;
    for (let i = 1; i < toks.length; i++) nll -= Math.log(out[i - 1]!.next.probabilities!.get(toks[i])!);
    await ctx.dispose();
    return Math.exp(nll / (ids.length - 1));
  } finally {
    await model.dispose();
  }
}

describe.each(TYPES)('dev-llama %s', (type) => {
  it('equals llama-quantize\'s file: tensor order, types, bytes and metadata', async () => {
    const [a, b] = await Promise.all([tensorTable(ours(type)), tensorTable(theirs(type))]);
    expect(a.rows.map((r) => [r.name, r.type, r.shape])).toEqual(b.rows.map((r) => [r.name, r.type, r.shape]));
    for (let i = 0; i < a.rows.length; i++) {
      expect(Buffer.compare(a.rows[i].data, b.rows[i].data), a.rows[i].name).toBe(0);
    }
    expect([...a.meta.keys()]).toEqual([...b.meta.keys()]);
    expect(a.meta.get('general.file_type')).toBe(b.meta.get('general.file_type'));
    expect(Buffer.compare(readFileSync(ours(type)), readFileSync(theirs(type)))).toBe(0);
  });

  it('llama.cpp loads it and its perplexity is within 2% of ours', async () => {
    const m = await loadModel(await openNodeFiles(ours(type)), await createWasmBackend({ threads: 2 }));
    let ppl: number;
    let ids: number[];
    try {
      ids = [m.tokenizer.bosId!, ...m.tokenizer.encode(sample)];
      ppl = (await new Session(m).perplexity(ids)).ppl;
    } finally {
      await m.dispose();
    }
    const ref = await llamaCppPpl(ours(type), ids);
    const refs = JSON.parse(readFileSync(fixture(dirOf(type), 'llamacpp-refs.json'), 'utf8'));
    // Same bytes as llama.cpp's own file, so the recorded llama.cpp figure holds for ours too (up to
    // llama.cpp's batch/thread-dependent summation order).
    expect(Math.abs(Math.log(ref) - Math.log(refs[`dev-llama.${type}.gguf`].ppl))).toBeLessThan(0.005);
    console.log(`${type}: ppl ours ${ppl.toFixed(2)}, llama.cpp ${ref.toFixed(2)}`);
    expect(Math.abs(Math.log(ppl) - Math.log(ref))).toBeLessThanOrEqual(Math.log(1.02));
  });
});
