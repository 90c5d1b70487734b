// Node command line: generate, perplexity, tokenize, bench, quantize, convert, fit, serve. With --json the last stdout line is
// one JSON object (a contract other tools parse); otherwise output is for people.
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { openNodeModel } from '../formats/node-file-source.ts';
import { EngineError, isEngineError } from '../shared/errors.ts';
import { parseCli, USAGE, type CliOptions } from './args.ts';
import { runModelCommand, type CliEnv } from './commands.ts';
import { readConstraint, type CliConstraint } from './constraint-file.ts';
import { runQuantize } from './quantize.ts';

const err = (s: string) => process.stderr.write(s);

/** Ctrl-C stops the running answer (within one batch of a long prompt); a second one quits. */
function interruptSignal(): AbortSignal {
  const ctrl = new AbortController();
  process.on('SIGINT', () => {
    if (ctrl.signal.aborted) process.exit(130);
    err('\n[stopping — press Ctrl-C again to quit]\n');
    ctrl.abort();
  });
  return ctrl.signal;
}

async function nodeEnv(o: CliOptions, constraint: CliConstraint | undefined): Promise<CliEnv> {
  const needsFile = o.command === 'perplexity' || (o.command === 'tokenize' && o.text === undefined);
  return {
    out: (s) => process.stdout.write(s),
    err,
    progress: process.stderr.isTTY === true,
    sources: () => openNodeModel(o.model),
    async createBackend(name) {
      if (name === 'webgpu') {
        const [{ nodeGPU }, { loadShaderFiles }, { createWebGPUBackend }] = await Promise.all([
          import('./node-gpu.ts'), import('./node-shaders.ts'), import('../backends/webgpu/webgpu-backend.ts')]);
        loadShaderFiles();
        return createWebGPUBackend({ gpu: await nodeGPU(), fuse: !o.noFuse });
      }
      return createWasmBackend({ threads: o.threads ?? Math.min(os.availableParallelism(), 8), maxMemoryBytes: o.maxMemory, fuse: !o.noFuse });
    },
    fileText: needsFile ? await readFile(o.file!, 'utf8') : undefined,
    hostMemoryBytes: () => process.memoryUsage().rss,
    signal: o.command === 'generate' ? interruptSignal() : undefined,
    constraint,
  };
}

/** What does not take a Hugging Face folder yet says so, instead of failing on a directory read. */
async function refuseFolder(o: CliOptions): Promise<void> {
  if (o.command === 'convert') return;
  const path = o.command === 'quantize' ? o.in : o.model;
  if (!path || /^https?:\/\//i.test(path) || !(await stat(path).then((s) => s.isDirectory(), () => false))) return;
  if (o.command === 'quantize') throw new EngineError('BAD_ARGUMENT', `${path} is a folder: quantize takes a GGUF file (F32/F16/BF16). A Hugging Face folder runs directly with --model, or becomes a GGUF with \`convert --in ${path}\`.`);
  if (o.browser) throw new EngineError('BAD_ARGUMENT', `${path} is a folder: a Hugging Face folder runs in Node for now; drop --browser.`);
}

export async function main(argv: string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv);
  } catch (e) {
    err(`error: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  // a bad --grammar / --json-schema file is bad input, found before any loading (no usage text: it is the file that is wrong)
  let constraint: CliConstraint | undefined;
  try {
    constraint = o.browser ? undefined : await readConstraint(o);
  } catch (e) {
    err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    return 2;
  }
  try {
    await refuseFolder(o);
    if (o.browser) {
      const { runInBrowser } = await import('./browser-runner.ts');
      return await runInBrowser(argv);
    }
    if (o.command === 'quantize') await runQuantize(o);
    else if (o.command === 'convert') await (await import('./convert.ts')).runConvert(o);
    else if (o.command === 'fit') await (await import('./fit.ts')).runFit(o, (s) => process.stdout.write(s));
    else if (o.command === 'serve') await (await import('./serve.ts')).runServe(o);
    else await runModelCommand(o, await nodeEnv(o, constraint));
    return 0;
  } catch (e) {
    err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
