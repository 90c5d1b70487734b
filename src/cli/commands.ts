// The CLI commands, written once for both hosts: Node (main.ts) and headless Chromium
// (browser-page.ts, for --browser). No node: imports here; the host supplies I/O and sources.
import type { Backend } from '../backends/backend.ts';
import { buildChatPrompt } from '../engine/chat.ts';
import { compileConstraint } from '../engine/grammar/compile.ts';
import { pickUnderGrammar, type GrammarConstraint } from '../engine/grammar/token-mask.ts';
import { loadModelInput, openTokenizer, type LoadedModel, type ModelInput } from '../engine/load.ts';
import { Rng } from '../engine/rng.ts';
import { argmax } from '../engine/sampling.ts';
import { Session, type Recover } from '../engine/session.ts';
import { estimateWasm, estimateWebGPU } from '../models/memory.ts';
import { EngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';
import { asWebGPU, gpuRows, kernels, limits, perToken, timeTopK, type GpuFigures } from './gpu-bench.ts';

export interface CliEnv {
  out(s: string): void;
  err(s: string): void;
  /** show loading progress (stderr is a terminal) */
  progress: boolean;
  /** the model freshly opened: byte sources of all split parts in order, or a folder as a GGUFFile */
  sources(): Promise<ModelInput>;
  createBackend(name: CliOptions['backend'], o: CliOptions): Promise<Backend>;
  /** text of --file (perplexity, tokenize) */
  fileText?: string;
  /** memory figure when the backend cannot report its own */
  hostMemoryBytes(): number;
  /** aborted when the user asks to stop (SIGINT): generation ends within one batch */
  signal?: AbortSignal;
  /** generate, bench: --grammar / --json-schema, read and checked by the Node side (constraint-file.ts) */
  constraint?: { grammar?: string; jsonSchema?: unknown };
}

async function load(o: CliOptions, env: CliEnv, backendName = o.backend): Promise<LoadedModel> {
  const backend = await env.createBackend(backendName, o);
  const showProgress = !o.json && env.progress;
  try {
    return await loadModelInput(await env.sources(), backend, {
      nCtx: o.ctx, kvType: o.kvType, maxMemoryBytes: o.maxMemory,
      onProgress: showProgress ? (p) => env.err(`\rloading ${Math.round((100 * p.loadedBytes) / p.totalBytes)}% `) : undefined,
    });
  } catch (e) {
    backend.dispose();
    throw e;
  } finally {
    if (showProgress) env.err('\r\x1b[K');
  }
}

/** On a GPU failure mid-answer, reload on WASM; the session rebuilds its cache and goes on. */
function wasmFallback(o: CliOptions, env: CliEnv, failed: LoadedModel): Recover | undefined {
  if (o.backend === 'wasm') return undefined;
  return async (e) => {
    env.err(`warning: ${e.message} — continuing on the WASM backend\n`);
    await failed.dispose().catch(() => {});
    return load({ ...o, json: true }, env, 'wasm');
  };
}

async function generate(o: CliOptions, env: CliEnv): Promise<void> {
  const m = await load(o, env);
  const s = new Session(m, wasmFallback(o, env, m));
  try {
    const contextShift = !o.noContextShift;
    const { promptIds, stop, stopIds, nKeep } = o.chat
      ? buildChatPrompt(m, [{ role: 'user', content: o.prompt! }], undefined, { contextShift })
      : { promptIds: s.promptIds(o.prompt!), stop: [], stopIds: [], nKeep: undefined };
    // a long prompt takes a while before the first token: say so, and how to stop it
    if (promptIds.length > 256) env.err(`processing ${promptIds.length} prompt tokens… (Ctrl-C stops)\n`);
    const events = s.generate(promptIds, {
      maxTokens: o.maxTokens, stop, stopIds, contextShift, nKeep, signal: env.signal, ...env.constraint,
      sampling: { temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP, seed: o.seed },
    });
    for await (const ev of events) {
      if (ev.type === 'token' && !o.json) env.out(ev.text);
      if (ev.type !== 'done') continue;
      const st = ev.stats;
      if (o.json) {
        env.out(`${JSON.stringify({ text: ev.text, promptIds, ids: ev.ids,
          prefillTokensPerSec: st.prefillTokensPerSec, decodeTokensPerSec: st.decodeTokensPerSec,
          finishReason: st.finishReason, prefilledTokens: st.prefilledTokens, contextShifts: st.contextShifts })}\n`);
      } else {
        env.out('\n');
        env.err(`\n[${st.promptTokens} prompt tokens, prefill ${st.prefillTokensPerSec.toFixed(1)} tok/s; ` +
          `${st.generatedTokens} generated, decode ${st.decodeTokensPerSec.toFixed(1)} tok/s; ${st.finishReason}` +
          `${st.contextShifts ? `; context shifted ×${st.contextShifts}` : ''}]\n`);
      }
    }
  } finally {
    await s.model.dispose();
  }
}

async function perplexity(o: CliOptions, env: CliEnv): Promise<void> {
  const m = await load(o, env);
  try {
    const t = m.tokenizer;
    // as llama-perplexity: BOS only where the vocabulary adds one (Qwen does not)
    const ids = [...(t.addBos && t.bosId !== null ? [t.bosId] : []), ...t.encode(env.fileText ?? '')];
    const r = await new Session(m).perplexity(ids);
    env.out(o.json ? `${JSON.stringify(r)}\n` : `perplexity ${r.ppl.toFixed(4)} over ${r.nTokens} tokens\n`);
  } finally {
    await m.dispose();
  }
}

async function tokenize(o: CliOptions, env: CliEnv): Promise<void> {
  const { file, tokenizer: t } = await openTokenizer(await env.sources());
  await file.close();
  const ids = [...(!o.noBos && t.addBos && t.bosId !== null ? [t.bosId] : []), ...t.encode(o.text ?? env.fileText ?? '')];
  if (o.json) return void env.out(`${JSON.stringify({ ids })}\n`);
  for (const id of ids) env.out(`${String(id).padStart(7)}  ${JSON.stringify(t.tokenText(id))}\n`);
}

/**
 * Greedy picks under a grammar, as Session.generate makes them (mask in place, then argmax), with
 * the constraint's own time. When the grammar completes (EOG picked, or nothing may follow) a fresh
 * document starts, so every timed step is a constrained one.
 */
class ConstrainedPicker {
  private c: GrammarConstraint;
  ms = 0;
  steps = 0;
  documents = 0;

  constructor(private readonly make: () => GrammarConstraint, private readonly eog: ReadonlySet<number>) {
    this.c = make();
  }

  pick(logits: Float32Array): number {
    const t0 = performance.now();
    let id = this.greedy(logits);
    if (this.eog.has(id)) {
      // the document is complete: the next one begins where it would have ended
      this.restart();
      id = this.greedy(logits);
    }
    this.c.accept(id);
    if (this.c.done) this.restart();
    this.ms += performance.now() - t0;
    this.steps++;
    return id;
  }

  /** as Session.generate picks greedily: the model's own argmax when the grammar allows it, else the masked one */
  private greedy(logits: Float32Array): number {
    return pickUnderGrammar(logits, this.c, argmax, true);
  }

  private restart(): void {
    this.c = this.make();
    this.documents++;
  }

  get walks(): { count: number; ms: number } {
    return this.c.walks;
  }
}

/**
 * Prefill N random tokens, then decode M greedily; on WebGPU also its counters (src/cli/gpu-bench.ts).
 * With --grammar / --json-schema every pick is masked (full logits, even where the device could
 * pick the argmax), and the mask's share of each step is reported.
 */
async function bench(o: CliOptions, env: CliEnv): Promise<void> {
  const m = await load({ ...o, ctx: Math.max(o.ctx ?? 0, o.promptTokens + o.genTokens + 1) }, env);
  try {
    const { decoder, h } = m;
    const backend = decoder.backend as Backend & { memoryBytes?: () => number; caps?: { bindingLimit: number } };
    const gpu = asWebGPU(backend);
    // the pre-flight's figure for this very load, beside the measured one
    const mo = { nCtx: decoder.opts.nCtx, kvType: decoder.opts.kvType, maxBatch: decoder.opts.maxBatch, threads: backend.threads };
    const predicted = backend.name === 'wasm' ? estimateWasm(m.file, h, m.arch, mo).backendBytes
      : estimateWebGPU(m.file, h, m.arch, { ...mo, bindingLimit: backend.caps?.bindingLimit }).backendBytes;
    const rng = new Rng(1234);
    const prompt = Int32Array.from({ length: o.promptTokens }, () => Math.floor(rng.nextFloat() * h.vocabSize));
    // greedy, with the argmax on the device when it can (as generation does)
    const plain = async (ids: Int32Array, pos: number): Promise<number> => {
      if (backend.topK) return (await decoder.forwardTopK(ids, pos, 1)).ids[0];
      return argmax(await decoder.forward(ids, pos, false));
    };
    // the vocabulary trie and the grammar are built here, before any timing (once per tokenizer / grammar)
    const constraint = env.constraint ?? {};
    const picker = compileConstraint(m.tokenizer, constraint)
      ? new ConstrainedPicker(() => compileConstraint(m.tokenizer, constraint)!, m.tokenizer.eogIds) : null;
    const next = picker ? async (ids: Int32Array, pos: number) => picker.pick(await decoder.forward(ids, pos, false)) : plain;
    // warm-up, as llama-bench does: the engine compiles WASM lazily (baseline code first, optimized
    // code once a kernel is hot), which would otherwise land in the first timed prefill
    const warm = Math.min(8, prompt.length);
    await plain(prompt.subarray(0, warm), 0);
    for (let i = 0; i < Math.min(2, o.genTokens); i++) await plain(prompt.subarray(0, 1), warm + i);
    const p0 = gpu?.stats();
    const t0 = performance.now();
    let id = await next(prompt, 0);
    const t1 = performance.now();
    const s0 = gpu?.stats();
    gpu?.countPerOp(true);
    const mask0 = picker ? { ms: picker.ms, walks: picker.walks } : null;
    for (let i = 0; i < o.genTokens; i++) id = await next(Int32Array.of(id), o.promptTokens + i);
    const t2 = performance.now();
    const s1 = gpu?.stats();
    const ops = gpu?.opCounts();
    gpu?.countPerOp(false);
    const stepMs = (t2 - t1) / o.genTokens;
    const g: GpuFigures | undefined = gpu && p0 && s0 && s1 && ops ? {
      adapter: gpu.caps.adapter, limits: limits(gpu.caps), features: { shaderF16: gpu.caps.shaderF16, subgroups: gpu.caps.subgroups },
      prefill: { tokens: o.promptTokens, dispatches: s0.dispatches - p0.dispatches, submits: s0.submits - p0.submits },
      perToken: perToken(s0, s1, o.genTokens), modelWeightBytes: s1.weightBytes, kernels: kernels(ops, o.genTokens),
      topK: await timeTopK(gpu, h.vocabSize, Math.min(o.topK || 40, h.vocabSize), stepMs),
    } : undefined;
    const r = {
      prefillTokensPerSec: (o.promptTokens / (t1 - t0)) * 1000,
      decodeTokensPerSec: (o.genTokens / (t2 - t1)) * 1000,
      peakMemoryBytes: backend.memoryBytes?.() ?? env.hostMemoryBytes(),
      predictedMemoryBytes: predicted,
      backend: backend.name,
      threads: backend.threads,
      ...(m.residency ? {
        residentLayers: m.residency.resident.filter(Boolean).length,
        streamedBytesPerToken: m.residency.streamedBytesPerPass,
      } : {}),
      ...(picker && mask0 ? {
        // decode steps only: the mask, apply and accept of each pick; walks = masks computed (cache misses)
        maskMsPerToken: (picker.ms - mask0.ms) / o.genTokens,
        maskWalksPerToken: (picker.walks.count - mask0.walks.count) / o.genTokens,
        maskWalkMsPerToken: (picker.walks.ms - mask0.walks.ms) / o.genTokens,
        documents: picker.documents,
      } : {}),
      ...(g ? {
        dispatchesPerToken: g.perToken.dispatches,
        gpuBytesPerToken: g.perToken.weightBytes + g.perToken.kvBytes + g.perToken.activationBytes,
        gpu: g,
      } : {}),
    };
    if (o.json) return void env.out(`${JSON.stringify(r)}\n`);
    const rows: [string, string][] = [
      ['model', `${h.name} (${h.arch}, ${h.nLayers} layers, dim ${h.dim})`],
      ['backend', `${r.backend}, ${r.threads} thread(s)`],
      [`prefill (${o.promptTokens} tokens)`, `${r.prefillTokensPerSec.toFixed(1)} tok/s`],
      [`decode (${o.genTokens} tokens)`, `${r.decodeTokensPerSec.toFixed(1)} tok/s`],
      ['peak memory', `${(r.peakMemoryBytes / 2 ** 20).toFixed(1)} MiB (pre-flight: ${(r.predictedMemoryBytes / 2 ** 20).toFixed(1)} MiB)`],
    ];
    if (r.residentLayers !== undefined && r.residentLayers < h.nLayers) {
      rows.push(['streamed', `${h.nLayers - r.residentLayers} of ${h.nLayers} layers, ${(r.streamedBytesPerToken! / 2 ** 20).toFixed(1)} MiB per token`]);
    }
    if (r.maskMsPerToken !== undefined) {
      rows.push(['grammar mask', `${r.maskMsPerToken.toFixed(2)} ms/token (${r.maskWalksPerToken!.toFixed(2)} computed per token, `
        + `${r.maskWalkMsPerToken!.toFixed(2)} ms/token of it; ${r.documents} documents completed)`]);
    }
    if (g) rows.push(...gpuRows(g));
    for (const [k, v] of rows) env.out(`${k.padEnd(24)} ${v}\n`);
  } finally {
    await m.dispose();
  }
}

const COMMANDS = { generate, perplexity, tokenize, bench } as const;

/** Runs a model command; `quantize` and `convert` are Node-only and handled by main.ts. */
export async function runModelCommand(o: CliOptions, env: CliEnv): Promise<void> {
  const run = COMMANDS[o.command as keyof typeof COMMANDS];
  if (!run) throw new EngineError('BAD_ARGUMENT', `${o.command} runs in Node only; drop --browser.`);
  await run(o, env);
}
