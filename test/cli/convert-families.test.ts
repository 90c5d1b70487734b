// `cli convert` for every family the folder reader maps: each architecture fixture (convert_hf_to_gguf.py
// + llama-quantize on a transformers model) written back as its HF folder (test/fixtures/hf-from-gguf.ts),
// converted by us to Q8_0, then loaded and run by llama.cpp itself (node-llama-cpp) against the
// fixture's llama.cpp perplexity. The converted file must carry the fixture's metadata keys with the
// fixture's value types, and where the folder has the real tokenizer.json (Llama 3.2, Qwen3, Gemma 3)
// the fixture's very vocabulary (tokens, types, merges) and llama.cpp's tokenization of the fixture's
// test cases. phi3, gemma2 and smollm3 have stand-in tokenizer.json files (the Llama-2 SentencePiece
// vocabulary, no merges: convert itself wants their tokenizer.model), so their ppl runs on the ids
// llama.cpp's tokenizer of the fixture gives, and their vocabulary is compared by tokens only.
import { readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LlamaLogLevel, getLlama, type ControlledEvaluateInputItem, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertToFile } from '../../src/cli/convert.ts';
import { convertFolder } from '../../src/engine/convert.ts';
import { bytesSource } from '../../src/formats/bytes-source.ts';
import { nodeFolder } from '../../src/formats/node-file-source.ts';
import { openGGUF, type GGUFFile } from '../../src/formats/gguf/reader.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';
import { hfFromGGUF, type WrittenFolder } from '../fixtures/hf-from-gguf.ts';

const refs: Record<string, { ppl: number; nTokens: number }> = JSON.parse(readFileSync(fixture('arch', 'llamacpp-refs.json'), 'utf8'));
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
// [family, tokenizer.json: real or stand-in, converted types]
const FAMILIES: [string, 'real' | 'stand-in', string[]][] = [
  ['llama32', 'real', ['Q8_0']], ['qwen3', 'real', ['Q8_0']], ['gemma3', 'real', ['Q8_0']],
  ['gemma2', 'stand-in', ['Q8_0']], ['phi3', 'stand-in', ['Q8_0']], ['smollm3', 'stand-in', ['Q8_0', 'F16']],
];
/** Keys convert writes that we do not: general.size_label (gguf-py's parameter-count label; llama.cpp only shows it) */
const FIXTURE_ONLY = new Set(['general.size_label']);

const tmp = mkdtempSync(path.join(tmpdir(), 'convert-families-'));
const written = new Map<string, WrittenFolder>();
const gguf = (f: string) => fixture('arch', `dev-${f}.Q8_0.gguf`);
const out = (f: string, t: string) => path.join(tmp, `${f}.${t}.gguf`);
let llama: Llama;
beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
  for (const [f, , types] of FAMILIES) {
    const w = await hfFromGGUF(gguf(f));
    written.set(f, w);
    for (const t of types) await convertToFile(w.dir, out(f, t), t as 'Q8_0', { threads: 2 });
  }
}, 120_000);
afterAll(async () => {
  await llama?.dispose();
  for (const w of written.values()) rmSync(w.dir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

async function withModel<T>(file: string, f: (m: LlamaModel) => Promise<T>): Promise<T> {
  const m = await llama.loadModel({ modelPath: file });
  try { return await f(m); } finally { await m.dispose(); }
}

/**
 * llama.cpp's ppl of ids in one context, 16 tokens per evaluation (as the refs were made). ln p from the
 * next token's logit, the top logit and llama.cpp's Σ exp(logit − top): Gemma 3's 262k-entry
 * probability map per token would take most of a minute here.
 */
async function llamaCppPpl(m: LlamaModel, ids: number[]): Promise<number> {
  const ctx = await m.createContext({ contextSize: 512, batchSize: 512, threads: 2 });
  try {
    const seq = ctx.getSequence();
    let nll = 0;
    for (let start = 0; start < ids.length - 1; start += 16) {
      const slice = ids.slice(start, Math.min(ids.length - 1, start + 16)) as Token[];
      const o = await seq.controlledEvaluate(slice.map((id, i): ControlledEvaluateInputItem => [id, {
        generateNext: { logits: { filter: { tokens: [ids[start + i + 1] as Token], includeTop: 1 } }, totalLogitWeight: true },
      }]));
      slice.forEach((_, i) => {
        const next = o[i]!.next, logits = next.logits!;
        nll -= logits.get(ids[start + i + 1] as Token)! - Math.max(...logits.values()) - Math.log(next.totalLogitWeight!);
      });
    }
    return Math.exp(nll / (ids.length - 1));
  } finally { await ctx.dispose(); }
}

const typeOf = (g: GGUFFile, k: string) => { const t = g.metadataTypes.get(k); return t ? `${t.type}${t.elemType !== undefined ? `/${t.elemType}` : ''}` : 'absent'; };
const list = (v: unknown) => Array.from(v as ArrayLike<unknown>);

/** ids as the refs were made: [BOS if the vocabulary adds one] + llama.cpp's tokenization of the text. */
const refIds = (m: LlamaModel, text: string) => [...(m.tokens.bos !== null && m.tokens.shouldPrependBosToken ? [m.tokens.bos as number] : []), ...m.tokenize(text, false)];

describe('cli convert: every family, llama.cpp on our GGUF against llama.cpp on convert_hf_to_gguf.py\'s', () => {
  const cases = FAMILIES.flatMap(([f, tok, types]) => types.map((t) => [f, tok, t] as const));
  it.each(cases)('%s (%s tokenizer.json) to %s: the fixture\'s metadata keys and types, and |Δ ln ppl| ≤ 0.02', async (f, tok, t) => {
    const [ours, theirs] = [await openGGUF(await openNodeFiles(out(f, t))), await openGGUF(await openNodeFiles(gguf(f)))];
    try {
      const keys = (g: GGUFFile) => [...g.metadata.keys()].filter((k) => !FIXTURE_ONLY.has(k) && !k.startsWith('general.sampling.')).sort();
      const fixtureKeys = keys(theirs).filter((k) => k !== 'general.file_type');
      expect(keys(ours).filter((k) => k !== 'general.file_type')).toEqual(fixtureKeys);
      expect(fixtureKeys.map((k) => `${k} ${typeOf(ours, k)}`)).toEqual(fixtureKeys.map((k) => `${k} ${typeOf(theirs, k)}`));
      const arch = String(theirs.metadata.get('general.architecture'));
      for (const [k, v] of theirs.metadata) {
        if (!k.startsWith(`${arch}.`)) continue;
        const a = ours.metadata.get(k);
        expect(typeof v === 'number' ? Math.fround(a as number) : a, k).toEqual(typeof v === 'number' ? Math.fround(v) : v);
      }
      expect(list(ours.metadata.get('tokenizer.ggml.tokens'))).toEqual(list(theirs.metadata.get('tokenizer.ggml.tokens')));
      if (tok === 'real') {
        for (const k of ['tokenizer.ggml.model', 'tokenizer.ggml.pre', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.padding_token_id',
          'tokenizer.ggml.unknown_token_id', 'tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token', 'tokenizer.ggml.add_sep_token', 'tokenizer.chat_template']) {
          expect(ours.metadata.get(k), k).toEqual(theirs.metadata.get(k));
        }
        expect(list(ours.metadata.get('tokenizer.ggml.token_type'))).toEqual(list(theirs.metadata.get('tokenizer.ggml.token_type')));
        expect(list(ours.metadata.get('tokenizer.ggml.merges'))).toEqual(list(theirs.metadata.get('tokenizer.ggml.merges')));
      }
      if (t === 'Q8_0') {
        // the fixture's F32 weights round-trip Q8_0 exactly, so llama-quantize's tensors are ours byte for byte
        expect(ours.tensors.map((x) => `${x.name} ${x.type} ${x.shape}`)).toEqual(theirs.tensors.map((x) => `${x.name} ${x.type} ${x.shape}`));
        for (const x of theirs.tensors) {
          const [a, b] = [await ours.readTensor(ours.tensor(x.name)!), await theirs.readTensor(x)];
          expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), x.name).toBe(0);
        }
      }
    } finally { await ours.close(); await theirs.close(); }

    const ref = refs[`dev-${f}.Q8_0.gguf`];
    const ids = tok === 'real' ? await withModel(out(f, t), async (m) => refIds(m, sample)) : await withModel(gguf(f), async (m) => refIds(m, sample));
    expect(ids.length).toBe(ref.nTokens);
    const ppl = await withModel(out(f, t), (m) => llamaCppPpl(m, ids));
    const delta = Math.log(ppl) - Math.log(ref.ppl);
    console.log(`${f} ${t}: llama.cpp ppl ${ppl.toFixed(2)} vs fixture ${ref.ppl.toFixed(2)} (Δln ${delta.toFixed(4)}; ids from llama.cpp's tokenizer of the ${tok === 'real' ? 'converted file' : 'fixture'})`);
    expect(Math.abs(delta)).toBeLessThanOrEqual(0.02);
  }, 60_000);

  it.each(FAMILIES.filter(([, tok]) => tok === 'real').map(([f]) => f))('%s: llama.cpp tokenizes the fixture\'s test cases with our converted vocabulary as with convert\'s', async (f) => {
    // the files end with a separator and a newline: 46 cases
    const inputs = readFileSync(`${gguf(f)}.inp`, 'utf8').split('\n__ggml_vocab_test__\n').slice(0, -1);
    const want = readFileSync(`${gguf(f)}.out`, 'utf8').split('\n').slice(0, -1);
    expect(want.length).toBe(inputs.length);
    await withModel(out(f, 'Q8_0'), async (m) => {
      for (let i = 0; i < inputs.length; i++) expect(m.tokenize(inputs[i], false).join(' '), JSON.stringify(inputs[i])).toBe(want[i].trim());
    });
  }, 60_000);
});

describe('cli convert: tokenizers it cannot name for llama.cpp', () => {
  it('a byte-level BPE whose pre-tokenizer convert\'s hash table would not know: UNSUPPORTED_ARCH naming tokenizer.json, nothing written', async () => {
    const dir = written.get('qwen3')!.dir;
    const json = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    json.pre_tokenizer = { type: 'Whitespace' };
    const f = await nodeFolder(dir);
    const folder = { ...f, open: async (n: string) => (n === 'tokenizer.json' ? bytesSource(new TextEncoder().encode(JSON.stringify(json)), n) : f.open(n)) };
    let wrote = 0;
    await expect(convertFolder(folder, 'Q8_0', { write: async () => { wrote++; } })).rejects.toMatchObject({
      code: 'UNSUPPORTED_ARCH', message: expect.stringMatching(/tokenizer\.json: its pre-tokenizer .*Whitespace.* cannot be converted to GGUF/),
    });
    expect(wrote).toBe(0);
  });
});
