// Node command line: generate, perplexity, tokenize, bench, quantize. With --json the last stdout line is
// one JSON object (a contract other tools parse); otherwise output is for people.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { openNodeFiles } from '../formats/node-file-source.ts';
import { loadModel, openTokenizer, type LoadedModel } from '../engine/load.ts';
import { Session } from '../engine/session.ts';
import { buildChatPrompt } from '../engine/chat.ts';
import { EngineError, isEngineError } from '../shared/errors.ts';
import { parseCli, USAGE, type CliOptions } from './args.ts';
import { runBench } from './bench.ts';
import { runQuantize } from './quantize.ts';

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

async function load(o: CliOptions): Promise<LoadedModel> {
  const threads = o.threads ?? Math.min(os.availableParallelism(), 8);
  const backend = await createWasmBackend({ threads });
  const showProgress = !o.json && process.stderr.isTTY;
  try {
    return await loadModel(await openNodeFiles(o.model), backend, {
      nCtx: o.ctx,
      onProgress: showProgress
        ? (p) => err(`\rloading ${Math.round((100 * p.loadedBytes) / p.totalBytes)}% `)
        : undefined,
    });
  } catch (e) {
    backend.dispose();
    throw e;
  } finally {
    if (showProgress) err('\r\x1b[K');
  }
}

async function generate(o: CliOptions): Promise<void> {
  const m = await load(o);
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

async function perplexity(o: CliOptions): Promise<void> {
  const text = await readFile(o.file!, 'utf8');
  const m = await load(o);
  try {
    const t = m.tokenizer;
    const ids = [...(t.bosId !== null ? [t.bosId] : []), ...t.encode(text)];
    const r = await new Session(m).perplexity(ids);
    out(o.json ? `${JSON.stringify(r)}\n` : `perplexity ${r.ppl.toFixed(4)} over ${r.nTokens} tokens\n`);
  } finally {
    await m.dispose();
  }
}

async function tokenize(o: CliOptions): Promise<void> {
  const text = o.text ?? (await readFile(o.file!, 'utf8'));
  const { file, tokenizer: t } = await openTokenizer(await openNodeFiles(o.model));
  await file.close();
  const ids = [...(!o.noBos && t.addBos && t.bosId !== null ? [t.bosId] : []), ...t.encode(text)];
  if (o.json) return void out(`${JSON.stringify({ ids })}\n`);
  for (const id of ids) out(`${String(id).padStart(7)}  ${JSON.stringify(t.tokenText(id))}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv);
  } catch (e) {
    err(`error: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  try {
    if (o.browser) {
      throw new EngineError('BAD_ARGUMENT', '--browser (running the command inside headless Chromium) is not built yet; it arrives with the WebGPU backend.');
    }
    const run = { generate, perplexity, tokenize, bench: (x: CliOptions) => runBench(x, load), quantize: runQuantize }[o.command];
    await run(o);
    return 0;
  } catch (e) {
    err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
