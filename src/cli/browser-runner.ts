// `--browser`: runs a CLI command inside headless Chromium (Debian chromium via playwright) and
// prints exactly what the Node run prints. The page (src/cli/browser-page.ts) runs the same engine
// code; the model is served from disk over HTTP range requests, output streams back as it comes.
import { readFile } from 'node:fs/promises';
import { openNodeFiles, resolveSplitFiles } from '../formats/node-file-source.ts';
import { isEngineError } from '../shared/errors.ts';
import { parseCli, USAGE, type CliOptions } from './args.ts';
import { openBrowser } from './browser-harness.ts';
import type { PageCommand } from './browser-page.ts';
import { readConstraint } from './constraint-file.ts';

const err = (s: string) => process.stderr.write(s);

async function fileText(o: CliOptions): Promise<string | undefined> {
  if (o.command === 'perplexity' || (o.command === 'tokenize' && o.text === undefined)) return readFile(o.file!, 'utf8');
  return undefined;
}

/** Runs `argv` (the CLI's arguments, including --browser) in Chromium; returns the exit code. */
export async function runInBrowser(argv: string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv);
  } catch (e) {
    err(`error: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let command: Omit<PageCommand, 'modelUrls'> & { parts: string[] };
  let constraint: PageCommand['constraint'];
  try {
    constraint = await readConstraint(o);
  } catch (e) {
    err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    return 2;
  }
  try {
    // open the model here first so that a bad path fails with the same message as in Node
    const sources = await openNodeFiles(o.model);
    await Promise.all(sources.map((s) => s.close?.()));
    command = { options: o, fileText: await fileText(o), constraint, progress: process.stderr.isTTY === true, parts: await resolveSplitFiles(o.model) };
  } catch (e) {
    err(isEngineError(e) ? `error: ${e.message}\n` : `internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
  const debug = !!process.env.BROWSER_DEBUG;
  let h;
  try {
    h = await openBrowser({
      timeoutMs: Infinity,
      onWrite: (stream, text) => void (stream === 'stdout' ? process.stdout : process.stderr).write(text),
      // page console output would change what the command prints; show it only when debugging
      onConsole: (type, text) => { if (debug) err(`[browser ${type}] ${text}\n`); },
    });
    const { parts, ...rest } = command;
    const page: PageCommand = { ...rest, modelUrls: parts.map((p) => h!.fileUrl(p)) };
    return await h.run<number>('src/cli/browser-page.ts', 'runCommand', page);
  } catch (e) {
    err(`internal error: headless Chromium run failed: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await h?.close();
  }
}
