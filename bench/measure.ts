// One bench cell: a GGUF at a thread count, our engine and wllama each in a fresh Chromium, and
// llama.cpp's native llama-bench, runs interleaved (ours, wllama, native, ours, …; the browser
// engines on the same random prompt per run), medians reported.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { BrowserHarness } from '../test/browser/harness.ts';
import { openGGUF } from '../src/formats/gguf/reader.ts';
import { openNodeFile } from '../src/formats/node-file-source.ts';
import { Rng } from '../src/engine/rng.ts';
import { openTokenizer } from '../src/engine/load.ts';
import type { Tokenizer } from '../src/tokenizer/tokenizer.ts';
import type { EngineRun, LoadInfo } from './page/bench-page.ts';
import { llamaBench128Binary, nativeRun, NoLlamaBench, type NativeRun } from './native.ts';

export const PAGE = 'bench/page/bench-page.ts';
const ROOT = path.resolve(import.meta.dirname, '..');

export interface CellOptions {
  threads: number; runs: number; promptTokens: number; genTokens: number;
  /** also time `cli bench` in Node once per run, between the browser runs */
  node?: boolean;
  /** also run llama-bench (native llama.cpp) once per run */
  native?: boolean;
  /** also run the native-128 llama-bench once per run, when that optional build exists */
  native128?: boolean;
}

export interface EngineStats {
  prefillTokPerSec: number;
  decodeTokPerSec: number;
  /** every run, for the record */
  runs: { prefill: number; decode: number }[];
  loadMs: number;
}

export interface CellResult {
  threads: number;
  ours: EngineStats & { peakMemoryBytes: number };
  /** absent when wllama could not load or run this file (wllamaError says why) */
  wllama?: EngineStats;
  wllamaError?: string;
  /** `cli bench` in Node, medians over the same runs */
  node?: { prefillTokPerSec: number; decodeTokPerSec: number };
  /** llama-bench (native llama.cpp on the host CPU), medians over the same runs; build: its commit, backends, CPU */
  native?: { prefillTokPerSec: number; decodeTokPerSec: number; runs: { prefill: number; decode: number }[]; build: string };
  /** why native is absent although asked for; nativeMissing: llama-bench could not be built */
  nativeError?: string;
  nativeMissing?: boolean;
  /** llama-bench built with x86's wide SIMD off (`build-llama-cpp.sh --variant native-128`): absent when not built */
  native128?: NonNullable<CellResult['native']>;
  native128Error?: string;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function stats(runs: EngineRun[], load: LoadInfo): EngineStats {
  const r = runs.map((x) => ({ prefill: (x.prefillTokens * 1000) / x.prefillMs, decode: (x.decodeTokens * 1000) / x.decodeMs }));
  return { prefillTokPerSec: median(r.map((x) => x.prefill)), decodeTokPerSec: median(r.map((x) => x.decode)), runs: r, loadMs: load.loadMs };
}

export interface Prompt { text: string; ids: number[] }

/**
 * A random text that tokenizes to exactly `n` ids with BOS (wllama takes prompts as text only, so
 * both engines get this text's ids; run() checks that llama.cpp counted the same number).
 */
export function randomPrompt(t: Tokenizer, n: number, seed: number): Prompt {
  const rng = new Rng(seed);
  const bos = t.bosId !== null && t.addBos ? [t.bosId] : [];
  const want = n - bos.length;
  const ids: number[] = [];
  while (ids.length < 2 * want) {
    const id = Math.floor(rng.nextFloat() * t.vocabSize);
    if (t.tokenType(id) === 'normal') ids.push(id);
  }
  // Token count grows with the length of a text prefix: bisect for `want`, then look nearby (one
  // character can add several byte tokens).
  const chars = Array.from(t.decode(ids).replace(/\uFFFD/g, ''));
  const count = (len: number) => t.encode(chars.slice(0, len).join(''), { parseSpecial: true }).length;
  let lo = 0, hi = chars.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(mid) < want) lo = mid + 1;
    else hi = mid;
  }
  for (let d = 0; d < 64; d++) {
    for (const len of [lo + d, lo - d]) {
      if (len < 0 || len > chars.length || count(len) !== want) continue;
      const text = chars.slice(0, len).join('');
      return { text, ids: [...bos, ...t.encode(text, { parseSpecial: true })] };
    }
  }
  return randomPrompt(t, n, seed + 7919);
}

export async function tokenizerOf(file: string): Promise<Tokenizer> {
  const { file: f, tokenizer } = await openTokenizer(await openNodeFile(file));
  await f.close();
  return tokenizer;
}

/**
 * Each engine run gets a fresh Chromium (fresh page, fresh memory): several loads of a 1 GB+ model
 * in one page exhausted it, and a crash must not take the other engine's numbers with it. wllama
 * failing (it copies the whole file into its heap) is recorded, and ours is still measured.
 */
export async function benchCell(open: () => Promise<BrowserHarness>, file: string, o: CellOptions,
  log: (s: string) => void = () => {}): Promise<CellResult> {
  const tok = await tokenizerOf(file);
  const banned = [...Array(tok.vocabSize).keys()].filter((id) => tok.tokenType(id) === 'byte');
  const nCtx = o.promptTokens + o.genTokens + 16;
  // Only one engine is loaded at a time: both keep worker threads that spin between operations
  // (llama.cpp's thread pool polls), and an idle engine spinning next to the measured one steals
  // its cores. Runs still alternate ours / wllama, each on a freshly loaded model.
  const ours: (EngineRun & { peakMemoryBytes: number })[] = [];
  const theirs: EngineRun[] = [];
  const ourLoads: LoadInfo[] = [];
  const theirLoads: LoadInfo[] = [];
  let wllamaError: string | undefined;
  const node: { prefill: number; decode: number }[] = [];
  const native: NativeRun[] = [];
  let nativeError: string | undefined;
  let nativeMissing = false;
  const native128: NativeRun[] = [];
  let native128Error: string | undefined;
  for (let i = 0; i < o.runs; i++) {
    const prompt = randomPrompt(tok, o.promptTokens, 1000 + i);
    await inBrowser(open, async (h) => {
      ourLoads.push(await h.run<LoadInfo>(PAGE, 'loadOurs', h.fileUrl(file), o.threads, nCtx));
      ours.push(await h.run(PAGE, 'runOurs', prompt.ids, o.genTokens));
    });
    if (!wllamaError) {
      try {
        await inBrowser(open, async (h) => {
          theirLoads.push(await h.run<LoadInfo>(PAGE, 'loadWllama', h.fileUrl(file), o.threads, nCtx));
          theirs.push(await h.run(PAGE, 'runWllama', prompt.text, prompt.ids.length, o.genTokens, banned));
        });
      } catch (e) {
        wllamaError = String((e as Error).message).split('\n')[0].slice(0, 300);
        log(`    wllama failed, measuring ours only: ${wllamaError}`);
      }
    }
    // interleaved with the browser runs, so that a slow spell of this shared machine hits all of them
    if (o.native && !nativeError) {
      try {
        native.push(await nativeRun(file, o.threads, o.promptTokens, o.genTokens));
      } catch (e) {
        nativeMissing = e instanceof NoLlamaBench;
        nativeError = String((e as Error).message).split('\n')[0].slice(0, 300);
        log(`    native llama-bench: ${nativeError}`);
      }
    }
    const bin128 = o.native128 && !native128Error ? llamaBench128Binary() : undefined;
    if (bin128) {
      try {
        native128.push(await nativeRun(file, o.threads, o.promptTokens, o.genTokens, bin128));
      } catch (e) {
        native128Error = String((e as Error).message).split('\n')[0].slice(0, 300);
        log(`    native-128 llama-bench: ${native128Error}`);
      }
    }
    if (o.node) node.push(await nodeRun(file, o));
    const n = node[i] ? ` | node pp ${node[i].prefill.toFixed(1)} tg ${node[i].decode.toFixed(1)} tok/s` : '';
    const nat = (o.native ? ` | native ${native[i] ? `pp ${native[i].prefill.toFixed(1)} tg ${native[i].decode.toFixed(1)} tok/s` : 'failed'}` : '')
      + (native128[i] ? ` | native-128 pp ${native128[i].prefill.toFixed(1)} tg ${native128[i].decode.toFixed(1)} tok/s` : '');
    log(`    run ${i + 1}/${o.runs}: ours ${fmtRun(ours[i])} | wllama ${theirs[i] ? fmtRun(theirs[i]) : 'failed'}${nat}${n}`);
  }
  return {
    threads: o.threads,
    ours: { ...stats(ours, ourLoads[0]), peakMemoryBytes: Math.max(...ours.map((r) => r.peakMemoryBytes)) },
    ...(theirs.length === o.runs ? { wllama: stats(theirs, theirLoads[0]) } : { wllamaError }),
    ...(native.length === o.runs ? { native: nativeStats(native) } : nativeError ? { nativeError, ...(nativeMissing ? { nativeMissing } : {}) } : {}),
    ...(native128.length === o.runs ? { native128: nativeStats(native128) } : native128Error ? { native128Error } : {}),
    ...(node.length ? { node: { prefillTokPerSec: median(node.map((r) => r.prefill)), decodeTokPerSec: median(node.map((r) => r.decode)) } } : {}),
  };
}

function nativeStats(runs: NativeRun[]): NonNullable<CellResult['native']> {
  return { prefillTokPerSec: median(runs.map((r) => r.prefill)), decodeTokPerSec: median(runs.map((r) => r.decode)),
    runs: runs.map((r) => ({ prefill: r.prefill, decode: r.decode })), build: runs[0].build };
}

async function inBrowser(open: () => Promise<BrowserHarness>, fn: (h: BrowserHarness) => Promise<void>): Promise<void> {
  const h = await open();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

function fmtRun(r: EngineRun): string {
  return `pp ${((r.prefillTokens * 1000) / r.prefillMs).toFixed(1)} tg ${((r.decodeTokens * 1000) / r.decodeMs).toFixed(1)} tok/s`;
}

/** Bytes a decode step streams: every matrix but the embedding table (one row), the output matrix
 *  (the embedding table itself when tied), and the f32 KV cache up to the mean decode position. */
export async function bytesPerToken(file: string, meanPos: number): Promise<number> {
  const f = await openGGUF(await openNodeFile(file));
  await f.close();
  const tied = !f.tensor('output.weight');
  let bytes = 0;
  for (const t of f.tensors) if (t.shape.length > 1 && (t.name !== 'token_embd.weight' || tied)) bytes += t.byteSize;
  const arch = String(f.metadata.get('general.architecture'));
  const n = (k: string) => Number(f.metadata.get(`${arch}.${k}`));
  const kvDim = (n('embedding_length') / n('attention.head_count')) * n('attention.head_count_kv');
  return bytes + n('block_count') * 2 * kvDim * 4 * meanPos;
}

/**
 * A family's speed relative to a base model (Llama at the same shape), from `cli bench` runs in
 * Node taken in pairs, ABBA order: this machine's speed swings ±30% from one minute to the next,
 * and a ratio of neighbouring runs cancels most of that. Medians of the per-pair ratios.
 */
export async function pairedRatio(file: string, base: string, o: CellOptions, pairs: number,
  log: (s: string) => void): Promise<{ decode: number; prefill: number; pairs: number }> {
  const dec: number[] = [], pre: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 ? [file, base] : [base, file];
    const [a, b] = [await nodeRun(order[0], o), await nodeRun(order[1], o)];
    const [f, l] = i % 2 ? [a, b] : [b, a];
    dec.push(f.decode / l.decode);
    pre.push(f.prefill / l.prefill);
    log(`    pair ${i + 1}/${pairs}: decode ${f.decode.toFixed(1)} vs ${l.decode.toFixed(1)} (${(f.decode / l.decode).toFixed(2)}×), `
      + `prefill ${f.prefill.toFixed(0)} vs ${l.prefill.toFixed(0)}`);
  }
  return { decode: median(dec), prefill: median(pre), pairs };
}

/** `cli bench --json`'s line (the mask fields only under --grammar / --json-schema). */
export interface NodeBench {
  prefill: number; decode: number;
  maskMsPerToken?: number; maskWalksPerToken?: number; maskWalkMsPerToken?: number; documents?: number;
}

/** One `cli bench --json` in Node for the same file and threads (plus `extra` arguments). */
export async function nodeRun(file: string, o: CellOptions, extra: string[] = []): Promise<NodeBench> {
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'bench', '--model', file, '--threads', String(o.threads),
      '--prompt-tokens', String(o.promptTokens), '--gen-tokens', String(o.genTokens), '--json', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    p.stdout.on('data', (d: Buffer) => { s += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`cli bench exited with ${code}`))));
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { prefillTokensPerSec: number; decodeTokensPerSec: number } & Omit<NodeBench, 'prefill' | 'decode'>;
  return { prefill: r.prefillTokensPerSec, decode: r.decodeTokensPerSec, maskMsPerToken: r.maskMsPerToken, maskWalksPerToken: r.maskWalksPerToken,
    maskWalkMsPerToken: r.maskWalkMsPerToken, documents: r.documents };
}
