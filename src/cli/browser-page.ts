// Page side of `--browser`: runs a CLI command with the same engine code inside Chromium and
// writes exactly what src/cli/main.ts prints, through an output sink the runner streams to the
// terminal. Runs in the browser: no node: imports (CliOptions is a type-only import).
import type { Backend } from '../backends/backend.ts';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { createWebGPUBackend, type WebGPUStats } from '../backends/webgpu/webgpu-backend.ts';
import { buildChatPrompt } from '../engine/chat.ts';
import { loadModel, openTokenizer, type LoadedModel } from '../engine/load.ts';
import { Session } from '../engine/session.ts';
import { Rng } from '../engine/rng.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { urlSource } from '../formats/url-source.ts';
import { EngineError, isEngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';

export interface PageCommand {
  options: CliOptions;
  /** same-origin URLs of the model file (all parts of a split model, in order) */
  modelUrls: string[];
  /** contents of --file, read by the Node side */
  fileText?: string;
  /** the terminal's stderr is a TTY (loading progress is shown only then, as in Node) */
  progress: boolean;
}

interface IO {
  out(s: string): void;
  err(s: string): void;
}

interface Env {
  io: IO;
  sources(): Promise<ByteSource[]>;
  progress: boolean;
}

async function createBackend(o: CliOptions): Promise<Backend> {
  if (o.backend === 'webgpu') return createWebGPUBackend();
  return createWasmBackend({ threads: o.threads ?? Math.min(navigator.hardwareConcurrency || 1, 8) });
}

async function load(o: CliOptions, env: Env): Promise<LoadedModel> {
  const backend = await createBackend(o);
  const showProgress = !o.json && env.progress;
  try {
    return await loadModel(await env.sources(), backend, {
      nCtx: o.ctx,
      onProgress: showProgress ? (p) => env.io.err(`\rloading ${Math.round((100 * p.loadedBytes) / p.totalBytes)}% `) : undefined,
    });
  } catch (e) {
    backend.dispose();
    throw e;
  } finally {
    if (showProgress) env.io.err('\r\x1b[K');
  }
}

async function generate(o: CliOptions, env: Env): Promise<void> {
  const { out, err } = env.io;
  const m = await load(o, env);
  try {
    const s = new Session(m);
    const { promptIds, stop } = o.chat
      ? buildChatPrompt(m, [{ role: 'user', content: o.prompt! }])
      : { promptIds: s.promptIds(o.prompt!), stop: [] };
    const events = s.generate(promptIds, {
      maxTokens: o.maxTokens, stop,
      sampling: { temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP, seed: o.seed },
    });
    for await (const ev of events) {
      if (ev.type === 'token' && !o.json) out(ev.text);
      if (ev.type !== 'done') continue;
      const st = ev.stats;
      if (o.json) {
        out(`${JSON.stringify({ text: ev.text, promptIds, ids: ev.ids,
          prefillTokensPerSec: st.prefillTokensPerSec, decodeTokensPerSec: st.decodeTokensPerSec })}\n`);
      } else {
        out('\n');
        err(`\n[${st.promptTokens} prompt tokens, prefill ${st.prefillTokensPerSec.toFixed(1)} tok/s; ` +
          `${st.generatedTokens} generated, decode ${st.decodeTokensPerSec.toFixed(1)} tok/s; ${st.finishReason}]\n`);
      }
    }
  } finally {
    await m.dispose();
  }
}

async function perplexity(o: CliOptions, env: Env, text: string): Promise<void> {
  const m = await load(o, env);
  try {
    const t = m.tokenizer;
    const ids = [...(t.bosId !== null ? [t.bosId] : []), ...t.encode(text)];
    const r = await new Session(m).perplexity(ids);
    env.io.out(o.json ? `${JSON.stringify(r)}\n` : `perplexity ${r.ppl.toFixed(4)} over ${r.nTokens} tokens\n`);
  } finally {
    await m.dispose();
  }
}

async function tokenize(o: CliOptions, env: Env, text: string): Promise<void> {
  const { file, tokenizer: t } = await openTokenizer(await env.sources());
  await file.close();
  const ids = [...(!o.noBos && t.addBos && t.bosId !== null ? [t.bosId] : []), ...t.encode(text)];
  if (o.json) return void env.io.out(`${JSON.stringify({ ids })}\n`);
  for (const id of ids) env.io.out(`${String(id).padStart(7)}  ${JSON.stringify(t.tokenText(id))}\n`);
}

/** As src/cli/bench.ts (prefill random tokens, then greedy decode), with browser memory figures;
 *  on WebGPU also dispatchesPerToken and gpuBytesPerToken. */
async function bench(o: CliOptions, env: Env): Promise<void> {
  const ctx = o.promptTokens + o.genTokens + 1;
  const m = await load({ ...o, ctx: Math.max(o.ctx ?? 0, ctx) }, env);
  try {
    const { decoder, h } = m;
    const rng = new Rng(1234);
    const prompt = Int32Array.from({ length: o.promptTokens }, () => Math.floor(rng.nextFloat() * h.vocabSize));
    const t0 = performance.now();
    let logits = await decoder.forward(prompt, 0, false);
    const t1 = performance.now();
    const gpu = decoder.backend as typeof decoder.backend & { stats?: () => WebGPUStats };
    const s0 = gpu.stats?.();
    for (let i = 0; i < o.genTokens; i++) {
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
      logits = await decoder.forward(Int32Array.of(best), o.promptTokens + i, false);
    }
    const t2 = performance.now();
    const backend = decoder.backend as typeof decoder.backend & { memoryBytes?: () => number };
    const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
    const s1 = gpu.stats?.();
    const r = {
      prefillTokensPerSec: (o.promptTokens / (t1 - t0)) * 1000,
      decodeTokensPerSec: (o.genTokens / (t2 - t1)) * 1000,
      peakMemoryBytes: backend.memoryBytes?.() ?? heap,
      backend: backend.name,
      threads: backend.threads,
      // WebGPU only: decode dispatches and weight bytes bound per token
      ...(s0 && s1 ? {
        dispatchesPerToken: (s1.dispatches - s0.dispatches) / o.genTokens,
        gpuBytesPerToken: (s1.weightBytesRead - s0.weightBytesRead) / o.genTokens,
      } : {}),
    };
    if (o.json) return void env.io.out(`${JSON.stringify(r)}\n`);
    const rows: [string, string][] = [
      ['model', `${h.name} (${h.arch}, ${h.nLayers} layers, dim ${h.dim})`],
      ['backend', `${r.backend}, ${r.threads} thread(s)`],
      [`prefill (${o.promptTokens} tokens)`, `${r.prefillTokensPerSec.toFixed(1)} tok/s`],
      [`decode (${o.genTokens} tokens)`, `${r.decodeTokensPerSec.toFixed(1)} tok/s`],
      ['peak memory', `${(r.peakMemoryBytes / 2 ** 20).toFixed(1)} MiB`],
    ];
    if (r.dispatchesPerToken !== undefined) {
      rows.push(['dispatches per token', r.dispatchesPerToken.toFixed(1)], ['GPU bytes per token', `${(r.gpuBytesPerToken! / 2 ** 20).toFixed(2)} MiB`]);
    }
    for (const [k, v] of rows) env.io.out(`${k.padEnd(24)} ${v}\n`);
  } finally {
    await m.dispose();
  }
}

async function dispatch(c: PageCommand, env: Env): Promise<void> {
  const o = c.options;
  switch (o.command) {
    case 'generate': return generate(o, env);
    case 'perplexity': return perplexity(o, env, c.fileText ?? '');
    case 'tokenize': return tokenize(o, env, o.text ?? c.fileText ?? '');
    case 'bench': return bench(o, env);
    default: throw new EngineError('BAD_ARGUMENT', `${o.command} runs in Node only; drop --browser.`);
  }
}

/** Runs one command; returns the exit code main.ts would return. */
export async function runCommand(c: PageCommand): Promise<number> {
  const write = (globalThis as unknown as { __harnessWrite(s: 'stdout' | 'stderr', t: string): Promise<void> }).__harnessWrite;
  // Writes reach Node in order; awaiting the last one before returning flushes them all.
  let last: Promise<void> = Promise.resolve();
  const io: IO = { out: (s) => void (last = write('stdout', s)), err: (s) => void (last = write('stderr', s)) };
  const env: Env = { io, progress: c.progress, sources: () => Promise.all(c.modelUrls.map((u) => urlSource(u))) };
  let code = 0;
  try {
    await dispatch(c, env);
  } catch (e) {
    io.err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    code = 1;
  }
  await last;
  return code;
}
