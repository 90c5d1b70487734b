// The native column of `npm run bench`: llama.cpp's own llama-bench (scripts/build-llama-cpp.sh, a
// native CPU build) on the same GGUF and thread count, one repetition per call so bench/measure.ts can
// interleave it run by run with the two browser engines.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaBinDir } from '../scripts/llama-cpp.ts';

export interface NativeRun { prefill: number; decode: number; build: string }

/** llama-bench could not be built or found: the report's native column says "missing". */
export class NoLlamaBench extends Error {}

/**
 * pp P at depth 0 is our prefill (P tokens, BOS first, one batch: n_batch 2048 by default, from an
 * empty cache); tg N at depth P is our decode (N single-token passes after a P-token prompt, which
 * llama-bench fills untimed). `-d 0,P` also makes the cross pairs (pp at depth P, tg at depth 0):
 * ignored, cheap next to the model load. llama-bench's own warm-up (one full pp and one tg pass)
 * stays on, as ours and wllama warm up before their timed runs too.
 */
export function llamaBenchArgs(file: string, threads: number, promptTokens: number, genTokens: number): string[] {
  return ['-m', file, '-p', String(promptTokens), '-n', String(genTokens), '-d', `0,${promptTokens}`,
    '-t', String(threads), '-r', '1', '-o', 'json'];
}

interface LlamaBenchTest {
  n_prompt: number; n_gen: number; n_depth?: number; n_threads: number; avg_ts: number; samples_ns: number[];
  build_commit: string; build_number: number; cpu_info: string; backends: string;
}

/** tok/s of the prefill and decode tests in llama-bench's `-o json` output (see llamaBenchArgs). */
export function parseLlamaBench(json: string, promptTokens: number, genTokens: number): NativeRun {
  const tests = JSON.parse(json) as LlamaBenchTest[];
  const find = (p: number, n: number, d: number) => {
    const t = tests.find((x) => x.n_prompt === p && x.n_gen === n && (x.n_depth ?? 0) === d);
    if (!t) throw new Error(`llama-bench printed no ${p ? `pp${p}` : `tg${n}`} test at depth ${d}`);
    // one sample per call (-r 1); the mean of several if asked for more
    const ns = t.samples_ns.reduce((a, b) => a + b, 0) / t.samples_ns.length;
    return ((p + n) * 1e9) / ns;
  };
  const t = tests[0];
  return { prefill: find(promptTokens, 0, 0), decode: find(0, genTokens, promptTokens),
    build: `${t.build_commit} (${t.build_number}), ${t.backends}, ${t.cpu_info}` };
}

let binary: string | NoLlamaBench | undefined;

/**
 * The llama-bench binary: $LLAMA_BENCH when set (another build to compare with), else
 * scripts/build-llama-cpp.sh's, built on first use; a failed build is remembered (one try per bench run).
 */
export function llamaBenchBinary(): string {
  const given = process.env.LLAMA_BENCH;
  if (given) return given;
  if (binary === undefined) {
    try {
      const bin = path.join(llamaBinDir(), 'llama-bench');
      binary = existsSync(bin) ? bin : new NoLlamaBench(`no llama-bench: ${bin} is missing`);
    } catch (e) {
      binary = new NoLlamaBench(`no llama-bench: scripts/build-llama-cpp.sh failed (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (binary instanceof NoLlamaBench) throw binary;
  return binary;
}

let binary128: string | null | undefined;

/**
 * The llama-bench of `scripts/build-llama-cpp.sh --variant native-128` (x86 wide SIMD off: the 128-bit
 * reference beside the native column), or undefined when that build does not exist: it is optional and
 * never built from here. $LLAMA_BENCH_128 overrides it.
 */
export function llamaBench128Binary(): string | undefined {
  const given = process.env.LLAMA_BENCH_128;
  if (given) return given;
  if (binary128 === undefined) {
    const script = fileURLToPath(new URL('../scripts/build-llama-cpp.sh', import.meta.url));
    try {
      const dir = execFileSync('bash', [script, '--variant', 'native-128', '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      binary128 = existsSync(path.join(dir, 'llama-bench')) ? path.join(dir, 'llama-bench') : null;
    } catch {
      binary128 = null; // --check exits 3 when the variant is not built
    }
  }
  return binary128 ?? undefined;
}

/** One llama-bench call (the wide build unless another binary is given): our prefill and decode, measured natively. */
export async function nativeRun(file: string, threads: number, promptTokens: number, genTokens: number,
  bin: string = llamaBenchBinary()): Promise<NativeRun> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(bin, llamaBenchArgs(file, threads, promptTokens, genTokens), { maxBuffer: 16 << 20, timeout: 30 * 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`llama-bench failed: ${err.message.split('\n')[0]}; ${stderr.trim().split('\n').slice(-3).join(' | ')}`)) : resolve(stdout)));
  });
  return parseLlamaBench(out, promptTokens, genTokens);
}
