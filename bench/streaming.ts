// The layer-streaming curve: `cli bench` (Node, WASM backend) on one model with --max-memory set
// to leave 100%, 50% and 25% of the weight bytes for weights (the decoder's KV cache and scratch
// come on top, as the loader counts them: workingBytes), rounds interleaved so the machine's swings hit every
// budget alike; medians. 100% runs without a cap (everything resident).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { openGGUF } from '../src/formats/gguf/reader.ts';
import { openNodeFile } from '../src/formats/node-file-source.ts';
import { workingBytes } from '../src/engine/load.ts';
import { checkModelSupport } from '../src/models/support.ts';
import { weightBytes } from '../src/models/weights.ts';
import { ROOT } from './make-models.ts';

export const SHARES = [1, 0.5, 0.25] as const;

export interface StreamingRow {
  model: string;
  quant: string;
  threads: number;
  /** share of the weight bytes the cap leaves for weights */
  share: number;
  /** --max-memory given (undefined at 100%: no cap) */
  capBytes?: number;
  weightBytes: number;
  prefillTokPerSec: number;
  decodeTokPerSec: number;
  /** WASM memory size after the run (it only grows: the peak) */
  peakMemoryBytes: number;
  residentLayers?: number;
  layers: number;
  streamedBytesPerToken?: number;
  runs: number;
}

export interface StreamingOptions { threads: number; promptTokens: number; genTokens: number; rounds: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** --max-memory for each share, as the CLI's bench will size its context. */
async function caps(file: string, o: StreamingOptions): Promise<{ caps: (number | undefined)[]; weights: number; layers: number }> {
  const f = await openGGUF(await openNodeFile(file));
  try {
    const { h, arch } = checkModelSupport(f);
    const w = weightBytes(f, h, arch);
    const weights = w.fixedBytes + w.layerBytes.reduce((a, b) => a + b, 0);
    const nCtx = o.promptTokens + o.genTokens + 1;
    const working = workingBytes(f, h, arch, { name: 'wasm', threads: o.threads }, { nCtx, maxBatch: Math.min(64, nCtx), kvType: 'f16' });
    return { caps: SHARES.map((s) => (s === 1 ? undefined : Math.floor(working + s * weights))), weights, layers: h.nLayers };
  } finally {
    await f.close();
  }
}

interface BenchJson { prefillTokensPerSec: number; decodeTokensPerSec: number; peakMemoryBytes: number; residentLayers?: number; streamedBytesPerToken?: number }

function cliBench(file: string, o: StreamingOptions, cap: number | undefined): Promise<BenchJson> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'bench', '--model', file, '--threads', String(o.threads),
      '--prompt-tokens', String(o.promptTokens), '--gen-tokens', String(o.genTokens), '--ctx', String(o.promptTokens + o.genTokens + 1), '--json',
      ...(cap === undefined ? [] : ['--max-memory', String(cap)])];
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    p.stdout.on('data', (d: Buffer) => { s += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(s.trim().split('\n').pop()!) as BenchJson) : reject(new Error(`cli bench exited with ${code}`))));
  });
}

export async function streamingCurve(file: string, model: string, quant: string, o: StreamingOptions,
  log: (s: string) => void): Promise<StreamingRow[]> {
  const { caps: c, weights, layers } = await caps(file, o);
  const runs: BenchJson[][] = SHARES.map(() => []);
  for (let round = 0; round < o.rounds; round++) {
    // rotate the order so no budget always runs first (or last) in a round
    for (let k = 0; k < SHARES.length; k++) {
      const i = (k + round) % SHARES.length;
      const r = await cliBench(file, o, c[i]);
      runs[i].push(r);
      log(`    ${model} ${quant} ${o.threads}T ${SHARES[i] * 100}%: decode ${r.decodeTokensPerSec.toFixed(1)}, prefill ${r.prefillTokensPerSec.toFixed(0)} tok/s, `
        + `${(r.peakMemoryBytes / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  return SHARES.map((share, i) => ({
    model, quant, threads: o.threads, share, capBytes: c[i], weightBytes: weights, layers,
    prefillTokPerSec: median(runs[i].map((r) => r.prefillTokensPerSec)),
    decodeTokPerSec: median(runs[i].map((r) => r.decodeTokensPerSec)),
    peakMemoryBytes: Math.max(...runs[i].map((r) => r.peakMemoryBytes)),
    residentLayers: runs[i][0].residentLayers, streamedBytesPerToken: runs[i][0].streamedBytesPerToken, runs: runs[i].length,
  }));
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Rows for the README: tok/s, memory against the cap, and decode against the resident run's. */
export function streamingRows(rows: readonly StreamingRow[]): string[][] {
  if (!rows.length) return [];
  const base = (r: StreamingRow) => rows.find((x) => x.model === r.model && x.quant === r.quant && x.threads === r.threads && x.share === 1);
  return [['model', 'quant', 'thr', 'weight budget', '--max-memory', 'resident layers', 'streamed / token', 'prefill', 'decode',
    'decode ÷ resident', 'peak mem', 'peak ÷ cap'],
  ...rows.map((r) => [r.model, r.quant, String(r.threads), `${r.share * 100}%`, r.capBytes ? mib(r.capBytes) : 'none',
    `${r.residentLayers ?? r.layers} of ${r.layers}`, r.streamedBytesPerToken ? mib(r.streamedBytesPerToken) : '0',
    r.prefillTokPerSec.toFixed(1), r.decodeTokPerSec.toFixed(1),
    base(r) ? `${(r.decodeTokPerSec / base(r)!.decodeTokPerSec).toFixed(2)}×` : '–', mib(r.peakMemoryBytes),
    r.capBytes ? `${(r.peakMemoryBytes / r.capBytes).toFixed(2)}` : '–'])];
}
