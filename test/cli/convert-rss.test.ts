// `cli convert` streams: its peak memory does not grow with the model. A synthetic bf16 llama folder
// of ~880 MB (random weights; 32000×4096 embeddings and an untied lm_head, one 4096-wide layer with
// GQA; two shards and an index) written to the temp dir, converted to Q8_0 in a child process whose
// peak RSS (getrusage maxrss, threads included) is compared with the same command on a 2.6 MB folder.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(tmpdir(), 'convert-rss-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DIM = 4096, VOCAB = 32000, FF = 11008, HEADS = 32, KV = 8, HD = DIM / HEADS;
const SHARDS: Record<string, [string, number[]][]> = {
  'model-00001-of-00002.safetensors': [
    ['model.embed_tokens.weight', [VOCAB, DIM]],
    ['model.layers.0.input_layernorm.weight', [DIM]],
    ['model.layers.0.self_attn.q_proj.weight', [HEADS * HD, DIM]],
    ['model.layers.0.self_attn.k_proj.weight', [KV * HD, DIM]],
    ['model.layers.0.self_attn.v_proj.weight', [KV * HD, DIM]],
    ['model.layers.0.self_attn.o_proj.weight', [DIM, HEADS * HD]],
    ['model.layers.0.post_attention_layernorm.weight', [DIM]],
    ['model.layers.0.mlp.gate_proj.weight', [FF, DIM]],
    ['model.layers.0.mlp.up_proj.weight', [FF, DIM]],
    ['model.layers.0.mlp.down_proj.weight', [DIM, FF]],
  ],
  'model-00002-of-00002.safetensors': [['model.norm.weight', [DIM]], ['lm_head.weight', [VOCAB, DIM]]],
};

/** Random bf16 of modest size (exponents 2^-8 … 2^-1, either sign): no NaN or Inf. */
function randomBF16(n: number, seed: number): Uint8Array {
  const u = new Uint16Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    u[i] = (s & 0x807f) | ((119 + ((s >>> 8) & 7)) << 7);
  }
  return new Uint8Array(u.buffer);
}

/** Writes one shard tensor by tensor in 32 MiB pieces (this process never holds a tensor either). */
function writeShard(file: string, tensors: [string, number[]][]): void {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, json);
    let seed = 1;
    for (const [, shape] of tensors) {
      let left = shape.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, 16 << 20);
        writeSync(fd, randomBF16(n, seed++ * 2654435761));
        left -= n;
      }
    }
  } finally { closeSync(fd); }
}

function writeFolder(dir: string): number {
  const weightMap: Record<string, string> = {};
  for (const [file, tensors] of Object.entries(SHARDS)) {
    writeShard(path.join(dir, file), tensors);
    for (const [name] of tensors) weightMap[name] = file;
  }
  writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], hidden_size: DIM, intermediate_size: FF, num_attention_heads: HEADS,
    num_key_value_heads: KV, num_hidden_layers: 1, vocab_size: VOCAB, max_position_embeddings: 4096,
    rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
  }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(fixture('arch', 'hf', 'dev-hf-mistral', f), path.join(dir, f));
  return Object.keys(SHARDS).reduce((a, f) => a + statSync(path.join(dir, f)).size, 0);
}

/** Runs cli convert in a child that prints its peak RSS (KiB) on exit. */
async function convertPeak(dir: string, out: string, type: string): Promise<{ peakMiB: number; secs: number }> {
  const hook = `data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss '+process.resourceUsage().maxRSS+'\\n'))`;
  const t0 = performance.now();
  const { stderr } = await promisify(execFile)(process.execPath, ['--import', hook, '--import', 'tsx', 'src/cli/main.ts', 'convert',
    '--in', dir, '--type', type, '--out', out, '--threads', '2'], { cwd: root, timeout: 150_000, maxBuffer: 16 << 20 });
  const kib = Number(/maxrss (\d+)/.exec(stderr)![1]);
  return { peakMiB: kib / 1024, secs: (performance.now() - t0) / 1000 };
}

it('peak RSS converting an 880 MB bf16 folder to Q8_0 stays within a fixed margin of a 2.6 MB one', async () => {
  const big = mkdtempSync(path.join(tmp, 'big-'));
  const t0 = performance.now();
  const bytes = writeFolder(big);
  const writeSecs = (performance.now() - t0) / 1000;
  expect(bytes).toBeGreaterThan(600e6);
  const small = await convertPeak(fixture('models', 'TinyStories-656K'), path.join(tmp, 'small.gguf'), 'Q8_0');
  const large = await convertPeak(big, path.join(tmp, 'big.gguf'), 'Q8_0');
  rmSync(big, { recursive: true, force: true });
  console.log(`convert Q8_0: ${(bytes / 2 ** 20).toFixed(0)} MiB folder (written in ${writeSecs.toFixed(1)} s): peak RSS ${large.peakMiB.toFixed(0)} MiB in ${large.secs.toFixed(1)} s; `
    + `2.6 MB folder: ${small.peakMiB.toFixed(0)} MiB in ${small.secs.toFixed(1)} s`);
  // the bound (README): baseline + 300 MiB for the chunks in flight (2 × pool = 4 here, each 8 MiB of
  // bf16, 16 MiB of f32 and 4 MiB of Q8_0, on two threads' heaps with their GC slack); measured +220 MiB.
  // One f32 copy of the 32000×4096 embeddings alone would add 500 MiB.
  expect(large.peakMiB - small.peakMiB).toBeLessThan(300);
}, 180_000);
