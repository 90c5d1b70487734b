// Our `cli serve` as a child process on loopback, run as a user runs it (the conformance suite's
// second server beside llama.cpp's llama-server from test/llama-server.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackProcess, waitUntil, type ServerProcess } from '../llama-server.ts';

export type { ServerProcess };
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `cli serve --port 0`: the URL comes from its `listening on` line; ready once /health says 200
 * (the model is loaded). `onListening` sees the URL before that.
 */
export async function startCliServe({ model, args = [], onListening }: {
  model: string; args?: string[]; onListening?: (url: string) => Promise<void> | void;
}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--model', model, '--port', '0', ...args],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const p = trackProcess(proc, '', 0);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  p.url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cli serve printed no address:\n${p.log()}`)), 60_000);
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(p.log());
      if (m) { clearTimeout(timer); proc.stderr!.off('data', onData); resolve(m[1]); }
    };
    proc.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`cli serve exited:\n${p.log()}`)));
  });
  p.port = Number(new URL(p.url).port);
  await onListening?.(p.url);
  await waitUntil(p, 'cli serve', () => fetch(`${p.url}/health`).then((r) => r.status === 200, () => false), 90_000);
  return p;
}
