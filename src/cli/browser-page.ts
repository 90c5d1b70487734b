// Page side of `--browser`: runs a CLI command with the same engine code inside Chromium and
// writes exactly what src/cli/main.ts prints, through an output sink the runner streams to the
// terminal. Runs in the browser: no node: imports (CliOptions is a type-only import).
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { createWebGPUBackend } from '../backends/webgpu/webgpu-backend.ts';
import { urlSource } from '../formats/url-source.ts';
import { isEngineError } from '../shared/errors.ts';
import type { CliOptions } from './args.ts';
import { runModelCommand, type CliEnv } from './commands.ts';

export interface PageCommand {
  options: CliOptions;
  /** same-origin URLs of the model file (all parts of a split model, in order) */
  modelUrls: string[];
  /** contents of --file, read by the Node side */
  fileText?: string;
  /** --grammar / --json-schema, read and checked by the Node side */
  constraint?: CliEnv['constraint'];
  /** the terminal's stderr is a TTY (loading progress is shown only then, as in Node) */
  progress: boolean;
}

/** Runs one command; returns the exit code main.ts would return. */
export async function runCommand(c: PageCommand): Promise<number> {
  const write = (globalThis as unknown as { __harnessWrite(s: 'stdout' | 'stderr', t: string): Promise<void> }).__harnessWrite;
  // Writes reach Node in order; awaiting the last one before returning flushes them all.
  let last: Promise<void> = Promise.resolve();
  const o = c.options;
  const env: CliEnv = {
    out: (s) => void (last = write('stdout', s)),
    err: (s) => void (last = write('stderr', s)),
    progress: c.progress,
    sources: () => Promise.all(c.modelUrls.map((u) => urlSource(u))),
    createBackend: (name) => (name === 'webgpu' ? createWebGPUBackend({ fuse: !o.noFuse })
      : createWasmBackend({ threads: o.threads ?? Math.min(navigator.hardwareConcurrency || 1, 8), maxMemoryBytes: o.maxMemory, fuse: !o.noFuse })),
    fileText: c.fileText,
    constraint: c.constraint,
    hostMemoryBytes: () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
  };
  let code = 0;
  try {
    await runModelCommand(o, env);
  } catch (e) {
    env.err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    code = 1;
  }
  await last;
  return code;
}
