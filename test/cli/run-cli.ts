// Runs `cli` (src/cli/main.ts) as a child process, as a user would: its exit code, stdout and stderr.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

export interface CliResult { code: number; stdout: string; stderr: string }

/** `cli ...args` with extra environment variables; never throws on a non-zero exit. */
export async function cliEnv(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, timeout: 120_000, env: { ...process.env, ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as CliResult;
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

export const cli = (...args: string[]): Promise<CliResult> => cliEnv({}, ...args);
